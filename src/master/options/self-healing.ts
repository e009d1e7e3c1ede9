/**
 * The self-healing part of the options pipeline (options.ts calls it): raw
 * values → checked, with messages naming the option and the value received.
 *
 * - `--hang-timeout <ms>`: default 30000; 0 turns detection off; otherwise at
 *   least 100 (four heartbeats per timeout must be possible). With `--exec`
 *   there is no heartbeat (no IPC channel): off, and refused if given.
 * - `--hang-stack`: the watchdog thread (src/worker/hang-stack.ts, ~9 MB per
 *   worker); needs hang detection.
 * - `--max-memory <size>` (size.ts): off by default and with 0; Linux only
 *   (RSS is read from /proc); at least 32 MiB, below an idle Node process,
 *   which would be recycled in a loop.
 * - `--rollback-window <ms>`: off by default and with 0; not with `--exec`
 *   (a program that accepts from its start cannot stand by).
 */
import { ConfigError } from '../../errors.js';
import { DEFAULTS } from '../../defaults.js';
import { formatSize, parseSize } from '../health/size.js';

export interface RawHealthOptions {
  hangTimeout?: string | number;
  hangStack?: boolean;
  maxMemory?: string | number;
  rollbackWindow?: string | number;
}

export interface HealthOptions {
  /** A live worker silent this long is hung (hang-detector.ts); 0: off. */
  readonly hangTimeoutMs: number;
  /** Workers log the blocked stack when hung (src/worker/hang-stack.ts). */
  readonly hangStack: boolean;
  /** A worker above this RSS for two samples in a row is recycled; 0: off. */
  readonly maxMemoryBytes: number;
  /** After an upgrade, the old generation stands by this long for a rollback; 0: off. */
  readonly rollbackWindowMs: number;
}

export const MIN_HANG_TIMEOUT_MS = 100;
export const MIN_MAX_MEMORY = 32 * 1024 ** 2;

export function parseHealthOptions(raw: RawHealthOptions, exec: boolean, platform: NodeJS.Platform = process.platform): HealthOptions {
  if (exec && raw.hangTimeout !== undefined && String(raw.hangTimeout).trim() !== '0') {
    throw new ConfigError(`--hang-timeout does not apply with --exec (a program sends no heartbeat), got \`${String(raw.hangTimeout)}\``);
  }
  const hangTimeoutMs = exec ? 0 : ms('--hang-timeout', raw.hangTimeout, DEFAULTS.hangTimeoutMs);
  if (hangTimeoutMs > 0 && hangTimeoutMs < MIN_HANG_TIMEOUT_MS) {
    throw new ConfigError(`--hang-timeout must be 0 (off) or at least ${MIN_HANG_TIMEOUT_MS} (ms), got \`${String(raw.hangTimeout)}\``);
  }
  const hangStack = raw.hangStack ?? false;
  if (hangStack && hangTimeoutMs === 0) {
    throw new ConfigError(exec ? '--hang-stack does not apply with --exec' : '--hang-stack needs hang detection, but --hang-timeout is `0`');
  }
  const maxMemoryBytes = raw.maxMemory === undefined ? 0 : parseSize(String(raw.maxMemory));
  if (maxMemoryBytes === undefined) {
    throw new ConfigError(`--max-memory must be a size in bytes or with a unit K, M, G or T (1024-based), e.g. 512M or 1.5G, got \`${String(raw.maxMemory)}\``);
  }
  if (maxMemoryBytes > 0 && maxMemoryBytes < MIN_MAX_MEMORY) {
    throw new ConfigError(`--max-memory must be 0 (off) or at least ${formatSize(MIN_MAX_MEMORY)} (an idle Node process is bigger), got \`${String(raw.maxMemory)}\``);
  }
  if (maxMemoryBytes > 0 && platform !== 'linux') {
    throw new ConfigError(`--max-memory needs Linux (worker memory is read from /proc), got \`${String(raw.maxMemory)}\` on ${platform}`);
  }
  const rollbackWindowMs = ms('--rollback-window', raw.rollbackWindow, 0);
  if (exec && rollbackWindowMs > 0) {
    throw new ConfigError(`--rollback-window does not apply with --exec (a program cannot stand by and accept again), got \`${String(raw.rollbackWindow)}\``);
  }
  return { hangTimeoutMs, hangStack, maxMemoryBytes, rollbackWindowMs };
}

function ms(option: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${option} must be a non-negative integer (ms), got \`${String(value)}\``);
  return n;
}
