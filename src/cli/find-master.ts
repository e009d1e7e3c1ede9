/**
 * Finds the master's control socket and connects to it: the socket the
 * master chose (control-path.ts), or the one recorded beside its PID file
 * (control-record.ts), once it is checked to belong to us or root. Talking
 * on the connection is control-client.ts's, imported only once there is a
 * socket, so a client that finds no master loads neither the protocol nor
 * node:net.
 *
 * Errors: no socket, nobody accepting on it, a socket we do not trust, or
 * no permission to reach it → `ERR_NO_MASTER` (the CLI exits 2: nothing was
 * asked of any master).
 */
import type { Stats } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { OverseerError, systemCode } from '../errors.js';
import { defaultCandidates } from '../ipc/control-path.js';
import { controlDirProblem, effectiveUid } from '../ipc/trusted-dir.js';
import type { ClientOptions } from './client-options.js';
import type { ControlConnection } from './control-client.js';
import { logicalCwd } from '../cwd.js';

const { lstatSync } = process.getBuiltinModule('node:fs');

/** What the user said about which master to reach: `--control` wins, then `--pid-file`, then `--name`. */
export interface ControlLocation {
  readonly control?: string | undefined;
  readonly name: string;
  readonly pidFile?: string | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

export class NoMasterError extends OverseerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NO_MASTER', message, options);
  }
}

/** Where the client's options say the master is. */
export function locate(options: ClientOptions): ControlLocation {
  return { control: options.control, name: options.name, pidFile: options.pidFile, cwd: logicalCwd(), env: process.env };
}

/** A connection to the master `at` names, once its socket is found and trusted. */
export async function connectToMaster(at: ControlLocation): Promise<ControlConnection> {
  const path = await findSocket(at, effectiveUid());
  const { connect } = process.getBuiltinModule('node:net');
  const { ControlConnection } = await import('./control-client.js');
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', (cause) => reject(new NoMasterError(
      systemCode(cause) === 'EACCES' ? permissionDenied(path) : `no master answers on ${path} (${systemCode(cause) ?? cause.message})`,
      { cause },
    )));
  });
  return ControlConnection.over(path, socket);
}

/**
 * The socket to talk to: `--control`; else the path recorded beside
 * `--pid-file` (and nothing else: falling back to `--name` could reach
 * another master); else the first default location holding a socket, in
 * directories the master would have used.
 */
async function findSocket(at: ControlLocation, uid: number): Promise<string> {
  if (at.control !== undefined) return trusted(resolve(at.cwd, at.control), uid) ?? noSocket([resolve(at.cwd, at.control)]);
  if (at.pidFile !== undefined) {
    const pidFile = resolve(at.cwd, at.pidFile);
    const { controlRecordPath, readControlRecord } = await import('../ipc/control-record.js');
    const record = readControlRecord(pidFile, uid);
    if (record.kind === 'missing') {
      throw new NoMasterError(`no master answers: no control record at ${controlRecordPath(pidFile)} (no master runs with --pid-file ${pidFile})`);
    }
    if (record.kind === 'refused') throw new NoMasterError(`refusing the control record: ${record.message}`);
    return trusted(record.path, uid) ?? noSocket([record.path]);
  }
  const candidates = defaultCandidates(at.name, at.env, uid).filter((c) => c.dir === undefined || controlDirProblem(c.dir, uid) === undefined);
  for (const { path } of candidates) {
    const found = trusted(path, uid);
    if (found !== undefined) return found;
  }
  return noSocket(candidates.map((c) => c.path));
}

/**
 * `path` if a socket is there that we may talk to: a socket (not a link to
 * one) owned by us or root. Anyone else's socket is refused before a byte is
 * sent: whoever placed it could answer anything. Undefined if nothing is there.
 */
function trusted(path: string, uid: number): string | undefined {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch (error) {
    const code = systemCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES') throw new NoMasterError(permissionDenied(path), { cause: error });
    throw new NoMasterError(`no master answers on ${path} (${code ?? String(error)})`, { cause: error });
  }
  if (!stat.isSocket()) throw new NoMasterError(`refusing control socket ${path}: it is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a socket'}`);
  if (stat.uid !== uid && stat.uid !== 0) {
    throw new NoMasterError(`refusing control socket ${path}: it is owned by uid ${stat.uid}, not by you (uid ${uid}) or root`);
  }
  return path;
}

function noSocket(paths: readonly string[]): never {
  throw new NoMasterError(`no master answers: no control socket at ${paths.join(' or ')}`);
}

function permissionDenied(path: string): string {
  return `permission denied on ${path} (run this as the master's user or root)`;
}
