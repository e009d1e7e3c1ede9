/**
 * Processes the bench starts, waiting without blind sleeps, and /proc readers.
 *
 * Contracts:
 * - Only pids passed to `track()` are ever signalled by `killTracked()` (and
 *   only while the pid still names the same process, by its start time): the
 *   bench tracks what it spawned and what its own supervisors reported as
 *   their children (overseer `worker.spawned`, PM2 `jlist`), never anything
 *   found by name.
 * - `onCleanup(fn)` functions run once, newest first, from `cleanup()`; the
 *   synchronous fallback (`cleanupSync`, run on 'exit') SIGKILLs every
 *   tracked pid still alive and runs the registered sync hooks (`pm2 kill`).
 * - `waitUntil` polls a condition with a deadline and throws on timeout; it
 *   is for conditions no event announces (a pid gone, a PM2 list).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/** Monotonic ms of this process; every timestamp in the bench uses it. */
export const now = () => performance.now();

/** @type {Map<number, string>} pid → its start time, so a reused pid is never hit */
const tracked = new Map();
/** @type {Array<() => Promise<void> | void>} */
const cleanups = [];
/** @type {Array<() => void>} */
const syncCleanups = [];

/** @param {number} pid @returns {string | null} field 22 of /proc/<pid>/stat */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** @param {number | undefined} pid a process the bench started or was told of by its own supervisor */
export function track(pid) {
  if (!Number.isInteger(pid) || pid <= 0 || tracked.has(pid)) return;
  const start = startTime(pid);
  if (start !== null) tracked.set(pid, start);
}

/** @param {number | undefined} pid */
export function untrack(pid) {
  tracked.delete(pid);
}

/** @param {() => Promise<void> | void} fn async cleanup, run by cleanup() */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** @param {() => void} fn sync cleanup, also run on process exit */
export function onCleanupSync(fn) {
  syncCleanups.push(fn);
}

/**
 * Alive and not a zombie. A zombie has exited; it only waits for its parent.
 * @param {number} pid
 */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** @param {number} pid @param {NodeJS.Signals} signal */
export function signal(pid, signal) {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL every tracked pid that is still alive. */
export function killTracked() {
  for (const [pid, start] of tracked) {
    if (isAlive(pid) && startTime(pid) === start) signal(pid, 'SIGKILL');
    tracked.delete(pid);
  }
}

/** @param {number} pid @returns {boolean} the pid is tracked and still the same process */
export function isTrackedAlive(pid) {
  return tracked.has(pid) && isAlive(pid) && startTime(pid) === tracked.get(pid);
}

let cleanedUp = false;
/** Run the async cleanups (newest first), then the sync fallback. Idempotent. */
export async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`bench: cleanup step failed: ${err?.message ?? err}\n`);
    }
  }
  cleanupSync();
}

/** Sync-only cleanup, safe inside process.on('exit'). */
export function cleanupSync() {
  for (const fn of syncCleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      /* best effort at exit */
    }
  }
  killTracked();
}

/**
 * Poll `condition` every `intervalMs` until it returns a truthy value.
 * @template T
 * @param {() => T | Promise<T>} condition
 * @param {{ timeoutMs: number, intervalMs?: number, what: string }} options
 * @returns {Promise<T>}
 */
export async function waitUntil(condition, { timeoutMs, intervalMs = 5, what }) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

/** @param {number} ms a polling interval or the prescribed deploy cadence, never a synchronisation */
export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Spawn a process, tracked until it exits. `onLine` receives its stdout lines;
 * the last 4000 characters of stderr are kept for error messages.
 * @param {string} command @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, onLine?: (line: string) => void }} [options]
 */
export function spawnTracked(command, args, { env, cwd, onLine } = {}) {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child.pid);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, sig) => {
      untrack(child.pid);
      resolve({ code, signal: sig });
    });
    child.once('error', (err) => {
      untrack(child.pid);
      resolve({ code: null, signal: null, error: err });
    });
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const rl = createInterface({ input: child.stdout });
  if (onLine) rl.on('line', onLine);
  else child.stdout.resume();
  return { child, exited, stderr: () => stderr };
}

/**
 * Ask the kernel for a free loopback port. The port is released before use:
 * the usual small race, acceptable for a bench on an otherwise idle machine.
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** @param {number} pid @returns {number | null} resident set size in KiB */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** @param {number} pid @returns {number | null} open file descriptors */
export function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** @param {number[]} values @returns {number | null} */
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * The inodes of the IPv4 TCP sockets in LISTEN state on `port` (from
 * /proc/net/tcp): the same inode before and after a change means the same
 * listening socket, never closed; none means nothing listens.
 * @param {number} port @returns {string[]}
 */
export function listeningInodes(port) {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let table = '';
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return [];
  }
  // Fields: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
  return table.split('\n').slice(1).map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(hexPort) && f[3] === '0A')
    .map((f) => f[9]);
}

/**
 * Resolves with `now()` once `pid` is gone (polled every `intervalMs`: for a
 * process that is not our child, no event announces its exit), or with null
 * at the deadline.
 * @param {number} pid @param {{ timeoutMs: number, intervalMs?: number }} options
 * @returns {Promise<number | null>}
 */
export async function goneAt(pid, { timeoutMs, intervalMs = 10 }) {
  const deadline = now() + timeoutMs;
  while (isAlive(pid)) {
    if (now() > deadline) return null;
    await delay(intervalMs);
  }
  return now();
}
