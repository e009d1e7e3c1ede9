/**
 * The PID file: the plain pid, written atomically and safely in a directory
 * others may share (atomic-file.ts); removed on exit only if it still names
 * us. A PID file naming a live process is "already running"; one naming a
 * dead process is stale and replaced.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { OverseerError, systemCode } from '../errors.js';
import { refuseUnsafeTarget, removeQuietly, writeFileAtomically } from './atomic-file.js';

/** Is there a process with this pid (ours to signal or not)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return systemCode(error) === 'EPERM';
  }
}

/** The pid in the file; undefined if there is none, or the path is a symbolic link (never followed). */
export function readPidFile(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    // A pid is a few digits: read no more than that, whatever the file holds.
    const buffer = Buffer.alloc(32);
    const pid = Number(buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function writePidFile(path: string, pid: number): void {
  refuseUnsafeTarget(path, `--pid-file ${path}`);
  const existing = readPidFile(path);
  if (existing !== undefined && existing !== pid && isAlive(existing)) {
    throw new OverseerError('ERR_ALREADY_RUNNING', `--pid-file ${path} names a running process (pid ${existing}): already running`);
  }
  writeFileAtomically(path, `${pid}\n`, 0o644, `--pid-file ${path}`);
}

export function removePidFile(path: string, pid: number): void {
  if (readPidFile(path) !== pid) return;
  removeQuietly(path);
}
