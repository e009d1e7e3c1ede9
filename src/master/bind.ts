/**
 * Creates a bound, NOT listening, server handle, the way Node's cluster
 * primary does (lib/internal/cluster/shared_handle.js): the master never calls
 * listen() on it, so it never accepts. Workers receive duplicates of the
 * descriptor, and the first one to be activated puts the socket in the listen
 * state; from then on the socket (and its accept queue) lives as long as the
 * master's descriptor does, whether or not any worker is alive.
 */
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { ListenError } from '../errors.js';
import { type ListenAddress, formatAddress } from '../ipc/address.js';
import { socketPathProblem } from '../ipc/socket-path.js';
import { reclaimSocketPath } from './stale-socket.js';

/** The native handle: only what the master uses of it. */
export interface ServerHandle {
  close(callback?: () => void): void;
  getsockname?(out: Record<string, unknown>): number;
}

type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => ServerHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

export interface Bound {
  readonly handle: ServerHandle;
  /** The address as bound: the real port when 0 was asked, the host chosen. */
  readonly address: ListenAddress;
}

/** Throw the ListenError for a system error code (from libuv's errno or a probe). */
function fail(address: ListenAddress, code: string, errno?: number): never {
  const hints: Record<string, string> = {
    EADDRINUSE: 'address already in use',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EADDRNOTAVAIL: 'no such address on this host',
  };
  const hint = hints[code] ? ` (${hints[code]})` : '';
  throw new ListenError(`cannot listen on ${formatAddress(address)}: ${code}${hint}`, {
    cause: Object.assign(new Error(code), { code, errno }),
  });
}

/**
 * Is anyone listening on host:port? Binding alone does not tell: sockets with
 * SO_REUSEADDR (libuv sets it) may bind beside a listening one on Linux, and
 * only listen() fails. So, since the master never listens itself, a
 * short-lived server tries, and closes at once; anything it happens to accept
 * in that instant is dropped as a refused connection would have been.
 */
function probeTcp(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = net.createServer({ pauseOnConnect: true }, (socket) => socket.destroy());
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'EINVAL'));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

async function bindTcp(address: Extract<ListenAddress, { kind: 'tcp' }>): Promise<Bound> {
  let candidates: Array<[string, number]>;
  if (address.host === undefined) {
    // As Node does for listen(port): the IPv6 wildcard (dual-stack) if IPv6 is there, else IPv4.
    candidates = [['::', 6], ['0.0.0.0', 4]];
  } else if (net.isIP(address.host)) {
    candidates = [[address.host, net.isIP(address.host)]];
  } else {
    const found = await lookup(address.host).catch((cause: unknown) => {
      throw new ListenError(`cannot listen on ${formatAddress(address)}: cannot resolve host`, { cause });
    });
    candidates = [[found.address, found.family]];
  }
  let errno = 0;
  for (const [host, family] of candidates) {
    const result = createServerHandle(host, address.port, family);
    if (typeof result === 'number') {
      errno = result;
      if (getSystemErrorName(result) !== 'EAFNOSUPPORT' && getSystemErrorName(result) !== 'EADDRNOTAVAIL') break;
      continue;
    }
    if (address.port !== 0) {
      const busy = await probeTcp(host, address.port);
      if (busy) {
        result.close();
        fail(address, busy);
      }
    }
    const out: Record<string, unknown> = {};
    result.getsockname?.(out);
    const port = typeof out.port === 'number' ? out.port : address.port;
    return { handle: result, address: { kind: 'tcp', host, port } };
  }
  return fail(address, getSystemErrorName(errno), errno);
}

async function bindUnix(address: Extract<ListenAddress, { kind: 'unix' }>): Promise<Bound> {
  const { path } = address;
  const tooLong = socketPathProblem(path);
  if (tooLong) throw new ListenError(`cannot listen on ${formatAddress(address)}: the path ${tooLong}`);
  const state = await reclaimSocketPath(path);
  if (state === 'not-a-socket') throw new ListenError(`cannot listen on ${formatAddress(address)}: a file that is not a socket is in the way`);
  if (state === 'in-use') throw new ListenError(`cannot listen on ${formatAddress(address)}: EADDRINUSE (another process is accepting on it)`);
  const result = createServerHandle(path, -1, -1);
  if (typeof result === 'number') return fail(address, getSystemErrorName(result), result);
  return { handle: result, address };
}

export function bindAddress(address: ListenAddress): Promise<Bound> {
  return address.kind === 'unix' ? bindUnix(address) : bindTcp(address);
}
