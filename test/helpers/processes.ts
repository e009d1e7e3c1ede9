/**
 * The PID registry: every process a test starts (masters, workers, load
 * clients) is recorded here and killed, by PID, after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const pids = new Set<number>();

export function track(pid: number | undefined): void {
  if (pid !== undefined) pids.add(pid);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
