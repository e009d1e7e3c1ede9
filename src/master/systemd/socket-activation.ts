/**
 * systemd socket activation (sd_listen_fds(3)). When `LISTEN_PID` names this
 * process, fds 3 … 3+LISTEN_FDS-1 are listening sockets the service manager
 * made and keeps open itself, so they outlive even a full restart of the
 * master. They are wrapped as server handles WITHOUT listening, exactly like
 * the master's own (bind.ts): the master never accepts on them; workers get
 * duplicates as usual.
 *
 * Contract: `takeInheritedSockets` removes LISTEN_FDS, LISTEN_PID and
 * LISTEN_FDNAMES from `env` whether or not they named this process, and must
 * run before any worker is forked (workers are forked with the master's
 * environment, and must not take the sockets for their own).
 */
import { ListenError } from '../../errors.js';
import type { ListenAddress } from '../../ipc/address.js';
import type { Bound, ServerHandle } from '../sockets/bind.js';

const { readFileSync, readlinkSync } = process.getBuiltinModule('node:fs');
const net = process.getBuiltinModule('node:net');
const { getSystemErrorName } = process.getBuiltinModule('node:util');

/** The first passed descriptor (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

export interface PassedFd {
  readonly fd: number;
  /** From LISTEN_FDNAMES (`FileDescriptorName=`); systemd's default is `unknown`; `predecessor` for a predecessor master's. */
  readonly name: string;
  /** false: a predecessor master bound it on a worker's request (not `--listen`). Systemd's are configured. */
  readonly configured?: boolean;
  /** A predecessor master's: the index of the `--listen` address it served (it may have been port 0). */
  readonly listenIndex?: number;
  /** A predecessor master's that a master bound (not systemd): its unix socket file is removed at stop. */
  readonly boundByMaster?: boolean;
}

export interface InheritedSocket extends Bound {
  readonly inherited: PassedFd;
}

/** What the master reads of the OS to describe a passed descriptor (Linux /proc). */
export interface FdInfo {
  /** `readlink /proc/self/fd/N`: `socket:[inode]` for a socket. */
  target(fd: number): string;
  /** The text of /proc/net/unix. */
  unixTable(): string;
}

export const procFdInfo: FdInfo = {
  target: (fd) => readlinkSync(`/proc/self/fd/${fd}`),
  unixTable: () => readFileSync('/proc/net/unix', 'utf8'),
};

const VARIABLES = ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'] as const;

/**
 * The descriptors the environment passes to `pid`, and the variables removed
 * from `env`. Empty when the variables are absent or name another process
 * (they were meant for an ancestor and leaked through).
 */
export function parseActivationEnv(env: NodeJS.ProcessEnv, pid: number): PassedFd[] {
  const { LISTEN_FDS: count, LISTEN_PID: owner, LISTEN_FDNAMES: names } = env;
  for (const name of VARIABLES) delete env[name];
  if (count === undefined || owner === undefined || owner.trim() !== String(pid)) return [];
  const n = /^\d+$/.test(count.trim()) ? Number(count.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n > 4096) {
    throw new ListenError(`cannot take the sockets systemd passed: LISTEN_FDS must be a small non-negative integer, got \`${count}\``);
  }
  const labels = names === undefined ? [] : names.split(':');
  return Array.from({ length: n }, (_, i) => ({ fd: LISTEN_FDS_START + i, name: labels[i] || 'unknown' }));
}

/** The path bound to the unix socket with this inode (`@name` for abstract ones), from /proc/net/unix. */
export function unixPath(inode: string, table: string): string | undefined {
  for (const line of table.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const fields = line.trim().split(/\s+/);
    if (fields[6] === inode && fields.length > 7) return fields.slice(7).join(' ');
  }
  return undefined;
}

type CreateServerHandle = (address: null, port: number, addressType: number, fd: number) => ServerHandle | number;
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

function describe(passed: PassedFd, info: FdInfo): { handle: ServerHandle; address: ListenAddress } {
  const where = `fd ${passed.fd} (${passed.name})`;
  let target: string;
  try {
    target = info.target(passed.fd);
  } catch (cause) {
    throw new ListenError(`cannot take the socket systemd passed as ${where}: it is not open`, { cause });
  }
  const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
  if (!inode) throw new ListenError(`cannot take the socket systemd passed as ${where}: it is ${target}, not a socket`);
  // Node guesses TCP or unix stream from the descriptor and opens it; it does
  // not bind and does not listen (port 0 and no address are required with an fd).
  const handle = createServerHandle(null, 0, 0, passed.fd);
  if (typeof handle === 'number') {
    throw new ListenError(`cannot take the socket systemd passed as ${where}: not a TCP or unix stream socket (${getSystemErrorName(handle)}); use ListenStream=`);
  }
  if (typeof handle.getsockname === 'function') {
    const out: Record<string, unknown> = {};
    const error = handle.getsockname(out);
    if (error === 0 && typeof out.port === 'number' && typeof out.address === 'string') {
      return { handle, address: { kind: 'tcp', host: out.address, port: out.port } };
    }
    handle.close();
    throw new ListenError(`cannot take the socket systemd passed as ${where}: getsockname failed (${getSystemErrorName(error)})`);
  }
  // A unix socket; one without a path in /proc is named after its descriptor.
  return { handle, address: { kind: 'unix', path: unixPath(inode, info.unixTable()) ?? `(${where})` } };
}

/**
 * Wrap the sockets systemd passed to this process (see the file comment).
 * Throws a ListenError, having closed what it opened, if a passed descriptor
 * is not a stream socket.
 */
export function takeInheritedSockets(env: NodeJS.ProcessEnv, pid: number, info: FdInfo = procFdInfo): InheritedSocket[] {
  return takePassedSockets(parseActivationEnv(env, pid), info);
}

/** Wrap passed listening sockets (systemd's, or a predecessor master's: src/master/succession/); as above. */
export function takePassedSockets(passed: readonly PassedFd[], info: FdInfo = procFdInfo): InheritedSocket[] {
  const taken: InheritedSocket[] = [];
  try {
    for (const one of passed) taken.push({ ...describe(one, info), inherited: one });
  } catch (error) {
    for (const socket of taken) socket.handle.close();
    throw error;
  }
  return taken;
}
