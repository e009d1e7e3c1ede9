/**
 * The PID file: written atomically (a temporary file renamed over it), so a
 * reader never sees it half-written; removed on exit only if it still names
 * us. A PID file naming a live process is "already running"; one naming a
 * dead process is stale and replaced.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { OverseerError, systemCode } from '../errors.js';

/** Is there a process with this pid (ours to signal or not)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return systemCode(error) === 'EPERM';
  }
}

export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePidFile(path: string, pid: number): void {
  const existing = readPidFile(path);
  if (existing !== undefined && existing !== pid && isAlive(existing)) {
    throw new OverseerError('ERR_ALREADY_RUNNING', `--pid-file ${path} names a running process (pid ${existing}): already running`);
  }
  const temporary = `${path}.${pid}.tmp`;
  try {
    writeFileSync(temporary, `${pid}\n`, { mode: 0o644 });
    renameSync(temporary, path);
  } catch (cause) {
    try {
      unlinkSync(temporary);
    } catch {
      // never created
    }
    throw new OverseerError('ERR_PID_FILE', `--pid-file ${path} cannot be written: ${systemCode(cause) ?? String(cause)}`, { cause });
  }
}

export function removePidFile(path: string, pid: number): void {
  if (readPidFile(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
