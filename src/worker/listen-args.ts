/**
 * Decides what a `server.listen(...)` call asks for, following Node's own
 * argument forms. Only a fixed TCP port or a unix socket path is routed to the
 * master; port 0, handles and file descriptors are left to Node.
 */
import type { ListenAddress } from '../ipc/address.js';
import type { OwnListenVia } from '../ipc/to-master.js';

export type ListenPlan =
  /** Node listens by itself; `via` says how, for the master's report (to-master.ts `own-listener`). */
  | { readonly kind: 'passthrough'; readonly via: OwnListenVia }
  | {
      readonly kind: 'master';
      readonly address: ListenAddress;
      readonly backlog: number | undefined;
      readonly callback: (() => void) | undefined;
    };

// Node itself rejects invalid ports and arguments: they never listen, so never get reported.
const PORT_0: ListenPlan = { kind: 'passthrough', via: 'port-0' };

function asPort(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

function asBacklog(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function planListen(args: readonly unknown[]): ListenPlan {
  const last = args.at(-1);
  const callback = typeof last === 'function' ? (last as () => void) : undefined;
  const rest = callback ? args.slice(0, -1) : args;
  const [first] = rest;

  if (first !== null && typeof first === 'object') {
    const options = first as Record<string, unknown>;
    if ('_handle' in options || 'handle' in options) return { kind: 'passthrough', via: 'handle' };
    if (typeof options.fd === 'number') return { kind: 'passthrough', via: 'fd' };
    const backlog = asBacklog(options.backlog) ?? asBacklog(rest[1]);
    if (options.port !== undefined && options.port !== null) {
      const port = asPort(options.port);
      if (port === undefined || port <= 0 || port > 65535) return PORT_0; // Node reports invalid ports
      const host = typeof options.host === 'string' && options.host !== '' ? options.host : undefined;
      return { kind: 'master', address: { kind: 'tcp', host, port }, backlog, callback };
    }
    if (typeof options.path === 'string' && options.path !== '') {
      if (options.path.startsWith('\0')) return { kind: 'passthrough', via: 'abstract' };
      return { kind: 'master', address: { kind: 'unix', path: options.path }, backlog, callback };
    }
    return PORT_0;
  }

  const port = asPort(first);
  if (port !== undefined) {
    if (port <= 0 || port > 65535) return PORT_0;
    const host = typeof rest[1] === 'string' && asPort(rest[1]) === undefined ? rest[1] : undefined;
    const backlog = asBacklog(host === undefined ? rest[1] : rest[2]);
    return { kind: 'master', address: { kind: 'tcp', host: host || undefined, port }, backlog, callback };
  }
  if (typeof first === 'string' && first !== '') {
    if (first.startsWith('\0')) return { kind: 'passthrough', via: 'abstract' };
    return { kind: 'master', address: { kind: 'unix', path: first }, backlog: asBacklog(rest[1]), callback };
  }
  return PORT_0;
}
