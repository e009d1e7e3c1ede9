/**
 * The PID registry: every process a test starts (masters, workers, load
 * clients) is recorded here and killed, by PID, after each test.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const pids = new Set<number>();

export function track(pid: number | undefined): void {
  if (pid !== undefined) pids.add(pid);
}

/**
 * Whether `pid` runs. A zombie (exited, not yet reaped: a child of this test
 * process whose exit event has not been handled) has exited: not alive.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone between the two reads
  }
}

export function killTracked(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
}

const cleanups: Array<() => unknown> = [];
/** Run `fn` after the current test (temp dirs and the like). */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A temporary directory, removed after the current test. */
export function tempDir(prefix = 'overseer-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

afterEach(async () => {
  killTracked();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
