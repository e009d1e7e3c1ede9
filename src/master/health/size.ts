/**
 * Memory sizes for `--max-memory`: a number of bytes, or a number (decimals
 * allowed: `1.5G`) with a unit K, M, G or T, optionally followed by `B` or
 * `iB` (`512M`, `512MB`, `512MiB` are the same). Units are binary (K = 1024),
 * as RSS is reported in KiB and as `--max-old-space-size` counts MiB;
 * case-insensitive. The result is rounded down to whole bytes. Returns
 * undefined for anything else (the caller names the option in its error).
 */
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2]!.toLowerCase();
  const bytes = Math.floor(Number(match[1]) * UNITS[unit]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `536870912` → `512 MiB`, for messages and status. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}
