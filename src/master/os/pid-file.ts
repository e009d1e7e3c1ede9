/**
 * The PID file: the plain pid, written atomically and safely in a directory
 * others may share (atomic-file.ts); removed on exit only if it still names
 * us. A PID file naming a live process is "already running"; one naming a
 * dead process is stale and replaced. Beside it, the control record
 * (src/ipc/control-record.ts) says where our control socket is.
 */
import { basename } from 'node:path';
import { OverseerError } from '../../errors.js';
import { controlRecordPath } from '../../ipc/control-record.js';
import { isAlive } from '../../alive.js';
import { refuseUnsafeTarget, removeQuietly, writeFileAtomically } from './atomic-file.js';

const { closeSync, constants, openSync, readSync } = process.getBuiltinModule('node:fs');

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

/**
 * Claim `path` for `pid` (over `replacing`'s, alive or not), recording `controlPath` beside it first: a PID
 * file naming a live master then always has its record (the order is
 * explained in control-record.ts).
 */
export function writePidFile(path: string, pid: number, controlPath?: string, replacing?: number): void {
  refuseUnsafeTarget(path, `--pid-file ${path}`);
  const existing = readPidFile(path);
  // `replacing`: the predecessor master a successor takes over from (src/master/succession/).
  if (existing !== undefined && existing !== pid && existing !== replacing && isAlive(existing)) {
    throw new OverseerError('ERR_ALREADY_RUNNING', `--pid-file ${path} names a running process (pid ${existing}): already running`);
  }
  const record = controlRecordPath(path);
  if (controlPath !== undefined) writeFileAtomically(record, `${controlPath}\n`, 0o644, `--pid-file ${path} (control record ${basename(record)})`);
  try {
    writeFileAtomically(path, `${pid}\n`, 0o644, `--pid-file ${path}`);
  } catch (error) {
    if (controlPath !== undefined) removeQuietly(record);
    throw error;
  }
}

/** Remove the record, then the PID file, if the PID file still names us. */
export function removePidFile(path: string, pid: number): void {
  if (readPidFile(path) !== pid) return;
  removeQuietly(controlRecordPath(path));
  removeQuietly(path);
}
