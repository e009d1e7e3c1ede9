/**
 * A typed, request/reply layer over a Node IPC channel (a `ChildProcess` on
 * the master's side, `process` on the worker's).
 *
 * Contract:
 * - `request()` assigns a `seq`, returns a promise settled by the matching
 *   reply, and rejects with `ERR_IPC_TIMEOUT` at its deadline or with
 *   `ERR_IPC_CLOSED` when the channel disconnects. It never hangs.
 * - Incoming messages go through `parse`, then the exhaustive handler table.
 *   Our envelopes that fail to parse go to `onInvalid`; anything that is not
 *   ours (the app's own `process.send()` traffic) goes to `onForeign`. Nothing
 *   is dropped without one of the two hearing of it.
 */
import type { Clock } from '../clock.js';
import { IpcError } from '../errors.js';
import { type Envelope, PROTOCOL_VERSION, type Reply, isEnvelope } from './envelope.js';

/** The part of `ChildProcess` / `process` the channel uses. */
export interface Port {
  send?(message: unknown, sendHandle?: unknown, options?: object, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown, handle: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  readonly connected?: boolean;
}

type Typed = { readonly type: string };
/** One handler per message type; the compiler insists on all of them. */
export type HandlerTable<M extends Typed> = {
  readonly [K in M['type']]: (message: Extract<M, { type: K }>, handle: unknown) => void;
};

export interface ChannelOptions<In extends Typed> {
  readonly parse: (value: unknown) => In | Reply | undefined;
  readonly handlers: HandlerTable<In>;
  /** One of our envelopes that is malformed or of an unknown type. */
  readonly onInvalid: (value: unknown) => void;
  /** A message that is not ours at all. */
  readonly onForeign: (value: unknown, handle: unknown) => void;
  readonly onDisconnect?: () => void;
  /** Decides the request deadlines. */
  readonly clock: Pick<Clock, 'setTimeout'>;
}

interface Pending {
  resolve(result: { value: unknown; handle: unknown }): void;
  reject(error: Error): void;
  cancelTimer: () => void;
}

/** Distributes `Omit` over a union, so each member keeps its own fields. */
export type Unsequenced<M> = M extends unknown ? Omit<M, 'ovs' | 'seq'> : never;

export class Channel<Out extends Envelope<string>, In extends Typed> {
  #port: Port;
  #options: ChannelOptions<In>;
  #seq = 0;
  #pending = new Map<number, Pending>();
  #closed = false;

  constructor(port: Port, options: ChannelOptions<In>) {
    this.#port = port;
    this.#options = options;
    port.on('message', (message, handle) => this.#receive(message, handle));
    port.on('disconnect', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Fire-and-forget; resolves once handed to the OS, rejects if the channel is gone. */
  send(message: Unsequenced<Out> | Reply, handle?: unknown): Promise<void> {
    return this.#write({ ...message, ovs: PROTOCOL_VERSION }, handle);
  }

  /** Send a request and await its reply (and the handle sent with it). */
  request(
    message: Unsequenced<Out>,
    timeoutMs: number,
    handle?: unknown,
  ): Promise<{ value: unknown; handle: unknown }> {
    if (this.#closed) return Promise.reject(new IpcError('ERR_IPC_CLOSED', 'IPC channel is closed'));
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const cancelTimer = this.#options.clock.setTimeout(() => {
        this.#pending.delete(seq);
        reject(new IpcError('ERR_IPC_TIMEOUT', `no reply to '${message.type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(seq, { resolve, reject, cancelTimer });
      this.#write({ ...message, ovs: PROTOCOL_VERSION, seq }, handle).catch((error: unknown) => {
        const pending = this.#pending.get(seq);
        if (!pending) return;
        this.#pending.delete(seq);
        pending.cancelTimer();
        pending.reject(new IpcError('ERR_IPC_CLOSED', `could not send '${message.type}'`, { cause: error }));
      });
    });
  }

  reply(seq: number, outcome: { result?: unknown } | { error: { code: string; message: string } }, handle?: unknown): Promise<void> {
    const body = 'error' in outcome ? { ok: false as const, error: outcome.error } : { ok: true as const, result: outcome.result };
    return this.#write({ ovs: PROTOCOL_VERSION, type: 'reply', seq, ...body }, handle);
  }

  /** Reject every pending request; later requests reject at once. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [seq, pending] of this.#pending) {
      pending.cancelTimer();
      pending.reject(new IpcError('ERR_IPC_CLOSED', `IPC channel closed before reply ${seq}`));
    }
    this.#pending.clear();
    this.#options.onDisconnect?.();
  }

  #write(message: object, handle: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed || !this.#port.send) {
        reject(new IpcError('ERR_IPC_CLOSED', 'IPC channel is closed'));
        return;
      }
      try {
        // The callback reports asynchronous send failures (peer gone).
        this.#port.send(message, handle, {}, (error) => (error ? reject(error) : resolve()));
      } catch (error) {
        reject(error);
      }
    });
  }

  #receive(value: unknown, handle: unknown): void {
    if (!isEnvelope(value)) {
      this.#options.onForeign(value, handle);
      return;
    }
    const message = this.#options.parse(value);
    if (message === undefined) {
      this.#options.onInvalid(value);
      return;
    }
    if (message.type === 'reply') {
      const reply = message as Reply;
      const pending = this.#pending.get(reply.seq);
      if (!pending) {
        this.#options.onInvalid(value);
        return;
      }
      this.#pending.delete(reply.seq);
      pending.cancelTimer();
      if (reply.ok) pending.resolve({ value: reply.result, handle });
      else pending.reject(new IpcError('ERR_IPC_REMOTE', reply.error.message, { cause: reply.error }));
      return;
    }
    const handler = this.#options.handlers[message.type as In['type']] as (m: In, h: unknown) => void;
    handler(message as In, handle);
  }
}
