/**
 * Messages a worker sends to the master. Adding a member here fails the build
 * until the master's handler table handles it.
 */
import { type ListenAddress, isListenAddress } from './address.js';
import { type Envelope, type Reply, isCount, isEnvelope, isReply } from './envelope.js';

/**
 * The app called `listen()` on this address. The master replies with the
 * bound (not listening) handle it holds for that address, binding it first
 * if it holds none yet; the reply's `result` is the bound `ListenAddress`.
 */
export type ListenRequest = Envelope<'listen'> & { readonly seq: number; readonly address: ListenAddress };

/** Every server the app asked for is set up, or the app called `ready()`. */
export type ReadyMessage = Envelope<'ready'> & { readonly listeners: readonly ListenAddress[] };

/**
 * The worker started draining on its own: a SIGTERM or SIGINT was sent to it
 * directly (not by the master) and the app has no listener for it. It has
 * stopped accepting; the master replaces it (src/worker/signals.ts).
 */
export type DrainingMessage = Envelope<'draining'> & { readonly signal: 'SIGTERM' | 'SIGINT' };

/** How an app listened without the master: `listen(0)` (or no port), a handle, an fd, an abstract socket. */
export const OWN_LISTEN_VIA = ['port-0', 'handle', 'fd', 'abstract'] as const;
export type OwnListenVia = (typeof OWN_LISTEN_VIA)[number];

/**
 * Informational: the app is listening on `address` by itself, not on a
 * socket the master holds (such a listener does not survive an upgrade). The
 * master remembers it to explain a worker that never gets ready.
 */
export type OwnListenerMessage = Envelope<'own-listener'> & { readonly address: ListenAddress; readonly via: OwnListenVia };

/**
 * The worker's main thread turned its event loop: sent every
 * `OVERSEER_HEARTBEAT_MS` (env.ts) from an unref'd timer, so a blocked loop
 * stops it and the master's hang detector (src/master/health/) notices the
 * silence. It carries the worker's own counts, which cost nothing to send:
 * `connections` open now on the servers the master handed over, and
 * `requests`, HTTP requests received on them since the worker started
 * (HTTP/1.1 and HTTP/2, a monotonic counter).
 */
export type HeartbeatMessage = Envelope<'heartbeat'> & { readonly connections: number; readonly requests: number };

export type ToMaster = ListenRequest | ReadyMessage | DrainingMessage | OwnListenerMessage | HeartbeatMessage | Reply;

/** The request→reply map of this direction: the `result` the master answers each request with. */
export interface MasterResultOf {
  /** The address as bound (the handle comes with the reply). */
  readonly listen: ListenAddress;
}

/** The guards the worker's channel checks those results with (channel.ts). */
export const IS_MASTER_RESULT_OF: { readonly [K in keyof MasterResultOf]: (value: unknown) => value is MasterResultOf[K] } = {
  listen: isListenAddress,
};

/** An address from a worker is logged: far above any real one (a unix path is at most 108 bytes). */
const MAX_ADDRESS_CHARS = 512;

/** PM2's convention: a bare `process.send('ready')` from the app. */
export const PM2_READY = 'ready';

/** Narrow untrusted input to a worker→master message, or `undefined`. */
export function parseToMaster(value: unknown): ToMaster | undefined {
  if (!isEnvelope(value)) return undefined;
  switch (value.type) {
    case 'listen':
      return typeof value.seq === 'number' && isListenAddress(value.address)
        ? (value as unknown as ListenRequest)
        : undefined;
    case 'ready':
      return Array.isArray(value.listeners) && value.listeners.every(isListenAddress)
        ? (value as unknown as ReadyMessage)
        : undefined;
    case 'draining':
      return value.signal === 'SIGTERM' || value.signal === 'SIGINT' ? (value as unknown as DrainingMessage) : undefined;
    case 'own-listener':
      return isListenAddress(value.address) && JSON.stringify(value.address).length <= MAX_ADDRESS_CHARS &&
        (OWN_LISTEN_VIA as readonly unknown[]).includes(value.via)
        ? (value as unknown as OwnListenerMessage)
        : undefined;
    case 'heartbeat':
      return isCount(value.connections) && isCount(value.requests) ? (value as unknown as HeartbeatMessage) : undefined;
    case 'reply':
      return isReply(value) ? (value as unknown as Reply) : undefined;
    default:
      return undefined;
  }
}
