/**
 * Creates the master's server handles: bound the way Node's cluster primary
 * does (lib/internal/cluster/shared_handle.js, `net._createServerHandle`),
 * then put into the listening state by a short-lived helper
 * (listen-helper.ts), never by the master itself, so the master never
 * accepts. From then on connections wait in the socket's backlog whether or
 * not a worker is alive; workers receive duplicates of the descriptor and
 * accept from that one queue once activated.
 *
 * Listening at once also tells whether the address is in use: libuv sets
 * SO_REUSEADDR, with which bind(2) succeeds beside a socket that is bound but
 * not listening yet (another master starting), and only listen(2) fails.
 *
 * Binding itself is done by a `Binder`: in the master (`masterBinder`), or in
 * a helper with the workers' credentials (bind-as.ts), so that a worker gets
 * from the master no more than it could bind itself.
 */
import { ListenError } from '../../errors.js';
import { type ListenAddress, formatAddress } from '../../ipc/address.js';
import { socketPathProblem } from '../../ipc/socket-path.js';
import { listenSockets } from './listen-helper.js';
import { reclaimSocketPath } from './stale-socket.js';

const net = process.getBuiltinModule('node:net');
const { getSystemErrorName } = process.getBuiltinModule('node:util');

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

/** A bound, not listening, handle; or why not: an errno name and, maybe, a few words more. */
export type BindOutcome = { readonly handle: ServerHandle } | { readonly code: string; readonly detail?: string | undefined };

/** Binds one concrete address: a numeric host of a known family, or an absolute unix path. */
export interface Binder {
  tcp(host: string, port: number, family: 4 | 6): Promise<BindOutcome>;
  /** Reclaims a stale socket file at the path first (stale-socket.ts). */
  unix(path: string): Promise<BindOutcome>;
}

function created(result: ServerHandle | number): BindOutcome {
  return typeof result === 'number' ? { code: getSystemErrorName(result) } : { handle: result };
}

/**
 * libuv keeps an EADDRINUSE from bind(2) for listen() to report, and leaves
 * the socket unbound (listen(2) on it would pick a random port); its
 * getsockname reports that kept error at once.
 */
function boundTcp(result: ServerHandle | number): BindOutcome {
  if (typeof result === 'number') return created(result);
  const err = result.getsockname?.({}) ?? 0;
  if (err === 0) return { handle: result };
  result.close();
  return { code: getSystemErrorName(err) };
}

/** Binding with the master's own credentials. */
export const masterBinder: Binder = {
  tcp: (host, port, family) => Promise.resolve(boundTcp(createServerHandle(host, port, family))),
  async unix(path) {
    const state = await reclaimSocketPath(path);
    if (state === 'not-a-socket') return { code: 'EADDRINUSE', detail: 'a file that is not a socket is in the way' };
    if (state === 'in-use') return { code: 'EADDRINUSE', detail: 'another process is accepting on it' };
    return created(createServerHandle(path, -1, -1));
  },
};

const HINTS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EADDRNOTAVAIL: 'no such address on this host',
};

/** Throw the ListenError for a system error code; the worker's `listen()` fails with that code. */
function fail(address: ListenAddress, code: string, detail?: string): never {
  const hint = detail ?? HINTS[code];
  throw new ListenError(`cannot listen on ${formatAddress(address)}: ${code}${hint ? ` (${hint})` : ''}`, {
    cause: Object.assign(new Error(code), { code }),
  });
}

/** Put a freshly bound handle into the listening state, or close it and throw. */
async function listen(bound: Bound): Promise<Bound> {
  const fd = (bound.handle as { fd?: unknown }).fd;
  try {
    if (typeof fd !== 'number' || fd < 0) throw new ListenError(`no file descriptor for ${formatAddress(bound.address)}`);
    const [code] = await listenSockets([{ handle: bound.handle, fd, label: formatAddress(bound.address) }]);
    if (code) fail(bound.address, code);
    return bound;
  } catch (error) {
    bound.handle.close();
    throw error;
  }
}

async function bindTcp(address: Extract<ListenAddress, { kind: 'tcp' }>, binder: Binder): Promise<Bound> {
  let candidates: Array<[string, 4 | 6]>;
  if (address.host === undefined) {
    // As Node does for listen(port): the IPv6 wildcard (dual-stack) if IPv6 is there, else IPv4.
    candidates = [['::', 6], ['0.0.0.0', 4]];
  } else if (net.isIP(address.host)) {
    candidates = [[address.host, net.isIP(address.host) as 4 | 6]];
  } else {
    // node:dns/promises only for a host name: a master listening on
    // addresses never loads it (docs/benchmarks.md, footprint).
    const { lookup } = await import('node:dns/promises');
    const found = await lookup(address.host).catch((cause: unknown) => {
      throw new ListenError(`cannot listen on ${formatAddress(address)}: cannot resolve host`, { cause });
    });
    candidates = [[found.address, found.family as 4 | 6]];
  }
  let failure: Extract<BindOutcome, { code: string }> = { code: 'EINVAL' };
  for (const [host, family] of candidates) {
    const outcome = await binder.tcp(host, address.port, family);
    if ('code' in outcome) {
      failure = outcome;
      if (outcome.code !== 'EAFNOSUPPORT' && outcome.code !== 'EADDRNOTAVAIL') break;
      continue;
    }
    const out: Record<string, unknown> = {};
    outcome.handle.getsockname?.(out);
    if (typeof out.port !== 'number' || out.port === 0) {
      // Not bound after all: never make such a socket listen (the kernel would give it a random port).
      outcome.handle.close();
      return fail(address, 'EADDRINUSE');
    }
    return listen({ handle: outcome.handle, address: { kind: 'tcp', host, port: out.port } });
  }
  return fail(address, failure.code, failure.detail);
}

async function bindUnix(address: Extract<ListenAddress, { kind: 'unix' }>, binder: Binder): Promise<Bound> {
  const tooLong = socketPathProblem(address.path);
  if (tooLong) throw new ListenError(`cannot listen on ${formatAddress(address)}: the path ${tooLong}`);
  const outcome = await binder.unix(address.path);
  if ('code' in outcome) return fail(address, outcome.code, outcome.detail);
  return listen({ handle: outcome.handle, address });
}

/** Bind `address` (a unix path must be absolute) and make it listen; throws a ListenError naming the address. */
export function bindAddress(address: ListenAddress, binder: Binder = masterBinder): Promise<Bound> {
  return address.kind === 'unix' ? bindUnix(address, binder) : bindTcp(address, binder);
}
