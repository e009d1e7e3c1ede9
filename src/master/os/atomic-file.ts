/**
 * Writing a small file that other users may share a directory with (the PID
 * file and its control record, often in `/run` or `/tmp`, often as root):
 *
 * - the content goes to a temporary file with an unpredictable name, created
 *   exclusively (`O_EXCL | O_NOFOLLOW`: never through an existing name or a
 *   link someone planted), then renamed over the target, so a reader never
 *   sees it half-written;
 * - a target that is a symbolic link, or not a regular file, is refused:
 *   whoever planted it wants us to write or later remove something else;
 * - the mode is set on the open descriptor, never through a path.
 */
import { basename, dirname, join } from 'node:path';
import { OverseerError, systemCode } from '../../errors.js';

const { closeSync, constants, fchmodSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } = process.getBuiltinModule('node:fs');

/**
 * node:crypto only when a file is written (`--pid-file`): a master without
 * one never loads it (about 1 MB of memory, docs/benchmarks.md, footprint).
 */
const randomHex = (bytes: number) => process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');

/** `what` names the file in errors, e.g. "--pid-file /run/api.pid". */
export function writeFileAtomically(path: string, content: string, mode: number, what: string): void {
  refuseUnsafeTarget(path, what);
  const temporary = join(dirname(path), `.${basename(path)}.${randomHex(8)}.tmp`);
  let created = false;
  try {
    const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    created = true;
    try {
      fchmodSync(fd, mode);
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (cause) {
    if (created) removeQuietly(temporary);
    throw new OverseerError('ERR_PID_FILE', `${what} cannot be written: ${systemCode(cause) ?? String(cause)}`, { cause });
  }
}

/** Unlink `path` (the entry itself: unlink never follows a final link); a missing file is fine. */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Throw if `path` exists as anything but a regular file (a link above all). */
export function refuseUnsafeTarget(path: string, what: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return; // nothing there (or nothing we can see: the write will say why)
  }
  if (stat.isSymbolicLink()) throw new OverseerError('ERR_PID_FILE', `${what} is a symbolic link; refusing to write through it`);
  if (!stat.isFile()) throw new OverseerError('ERR_PID_FILE', `${what} exists and is not a regular file; not replacing it`);
}
