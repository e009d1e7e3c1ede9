/**
 * The control record: `<pid-file>.control`, written by a master started with
 * `--pid-file` next to it, holding the absolute path of the control socket it
 * serves. The PID file itself stays the plain PID every tool expects; the
 * record is how `overseer upgrade|status|stop --pid-file F` finds the master
 * started with `--pid-file F`, whatever control path it used.
 *
 * The master writes the record before the PID file and removes it before
 * the PID file (pid-file.ts), so a PID file naming a live master always has
 * its record, and a second master cannot have its fresh record removed by
 * the first one stopping.
 */
import { OverseerError, systemCode } from '../errors.js';

const { closeSync, constants, fstatSync, openSync, readSync } = process.getBuiltinModule('node:fs');

/** A path is at most this long (PATH_MAX); a larger record is not ours. */
const MAX_RECORD_BYTES = 4096;

export function controlRecordPath(pidFile: string): string {
  return `${pidFile}.control`;
}

export type ControlRecord =
  | { readonly kind: 'found'; readonly path: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'refused'; readonly message: string };

/**
 * Read the record beside `pidFile`. It is believed only if it is a regular
 * file (not a link) owned by `uid` or root, writable by nobody else, holding
 * one absolute path; the socket it names is checked again before use.
 */
export function readControlRecord(pidFile: string, uid: number): ControlRecord {
  const path = controlRecordPath(pidFile);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = systemCode(error);
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'EACCES' || code === 'EPERM') throw new OverseerError('ERR_NO_MASTER', `permission denied on ${path}`, { cause: error });
    return { kind: 'refused', message: code === 'ELOOP' ? `${path} is a symbolic link` : `${path}: ${code ?? String(error)}` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { kind: 'refused', message: `${path} is not a regular file` };
    if (stat.uid !== uid && stat.uid !== 0) return { kind: 'refused', message: `${path} is owned by uid ${stat.uid}, not by uid ${uid} or root` };
    if ((stat.mode & 0o022) !== 0) return { kind: 'refused', message: `${path} is writable by others` };
    const buffer = Buffer.alloc(MAX_RECORD_BYTES + 1);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('utf8');
    const socket = text.endsWith('\n') ? text.slice(0, -1) : text;
    if (length > MAX_RECORD_BYTES || !socket.startsWith('/') || socket.includes('\n') || socket.includes('\0')) {
      return { kind: 'refused', message: `${path} does not hold a socket path` };
    }
    return { kind: 'found', path: socket };
  } finally {
    closeSync(fd);
  }
}
