/**
 * The resident memory (RSS) of a process, from `/proc/<pid>/status`
 * (`VmRSS`, in kB). `status` rather than `statm`: statm counts pages, and the
 * page size is not 4 KiB everywhere (64 KiB on some arm64 kernels), while
 * Node has no API for it. Linux only: `--max-memory` is refused elsewhere
 * (options.ts). Resolves `undefined` when the process is gone or the value is
 * missing (a zombie has no VmRSS). Reads one ~1.5 KB file: about 20 µs.
 */
import { readFile } from 'node:fs/promises';

export type ReadRss = (pid: number) => Promise<number | undefined>;

export const readRss: ReadRss = async (pid) => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseVmRss(await readFile(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
};

/** Bytes from a `status` file's `VmRSS:   1234 kB` line, or undefined. */
export function parseVmRss(status: string): number | undefined {
  const match = /^VmRSS:\s*(\d+)\s*kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}
