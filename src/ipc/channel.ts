/**
 * A typed, request/reply layer over a Node IPC channel (a `ChildProcess` on
 * the master's side, `process` on the worker's).
 *
 * Contract:
 * - `request()` assigns a `seq`, returns a promise settled by the matching
 *   reply, and rejects with `ERR_IPC_TIMEOUT` at its deadline or with
 *   `ERR_IPC_CLOSED` when the channel disconnects. It never hangs.
 * - A reply's `result` is typed per request (`Results`, the protocol's
 *   request→reply map) and checked at run time by that request's guard
 *   (`ChannelOptions.results`): one that fails it rejects with
 *   `ERR_IPC_REPLY`, so no caller casts what the peer sent.
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

/** The request types among the outgoing messages: those with a `seq`, but replies. */
export type RequestType<Out extends Typed> = Exclude<Extract<Out, { readonly seq: number }>['type'], 'reply'>;

/** A request→reply map: for each request type, the type of its reply's `result`. */
export type ResultMap<Out extends Typed> = { readonly [K in RequestType<Out>]: unknown };

/** One guard per request type, narrowing a reply's `result` to its type in the map. */
export type ResultGuards<R> = { readonly [K in keyof R]: (value: unknown) => value is R[K] };

export interface ChannelOptions<In extends Typed, R> {
  readonly parse: (value: unknown) => In | Reply | undefined;
  readonly handlers: HandlerTable<In>;
  /** Checks the result of each reply to one of our requests (see above). */
  readonly results: ResultGuards<R>;
  /** One of our envelopes that is malformed or of an unknown type. */
  readonly onInvalid: (value: unknown) => void;
  /** A message that is not ours at all. */
  readonly onForeign: (value: unknown, handle: unknown) => void;
  readonly onDisconnect?: () => void;
  /** Decides the request deadlines. */
  readonly clock: Pick<Clock, 'setTimeout'>;
}

interface Pending {
  readonly type: string;
  readonly isResult: (value: unknown) => boolean;
  resolve(result: { value: unknown; handle: unknown }): void;
  reject(error: Error): void;
  cancelTimer: () => void;
}

/** Distributes `Omit` over a union, so each member keeps its own fields. */
export type Unsequenced<M> = M extends unknown ? Omit<M, 'ovs' | 'seq'> : never;

/** The outgoing requests, as `request()` takes them (no `seq`: the channel assigns it). */
type OutRequest<Out extends Typed> = Unsequenced<Extract<Out, { readonly type: RequestType<Out> }>>;

export class Channel<Out extends Envelope<string>, In extends Typed, R extends ResultMap<Out> = ResultMap<Out>> {
  #port: Port;
  #options: ChannelOptions<In, R>;
  #seq = 0;
  #pending = new Map<number, Pending>();
  #closed = false;

  constructor(port: Port, options: ChannelOptions<In, R>) {
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

  /** Send a request and await its reply's result (checked: see above) and the handle sent with it. */
  request<M extends OutRequest<Out>>(
    message: M,
    timeoutMs: number,
    handle?: unknown,
  ): Promise<{ value: R[M['type']]; handle: unknown }> {
    if (this.#closed) return Promise.reject(new IpcError('ERR_IPC_CLOSED', 'IPC channel is closed'));
    const seq = ++this.#seq;
    const type: RequestType<Out> = message.type;
    const isResult = this.#options.results[type];
    return new Promise((resolve, reject) => {
      const cancelTimer = this.#options.clock.setTimeout(() => {
        this.#pending.delete(seq);
        reject(new IpcError('ERR_IPC_TIMEOUT', `no reply to '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(seq, { type, isResult, resolve: resolve as Pending['resolve'], reject, cancelTimer });
      this.#write({ ...message, ovs: PROTOCOL_VERSION, seq }, handle).catch((error: unknown) => {
        const pending = this.#pending.get(seq);
        if (!pending) return;
        this.#pending.delete(seq);
        pending.cancelTimer();
        pending.reject(new IpcError('ERR_IPC_CLOSED', `could not send '${type}'`, { cause: error }));
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
      if (!reply.ok) pending.reject(new IpcError('ERR_IPC_REMOTE', reply.error.message, { cause: reply.error }));
      else if (pending.isResult(reply.result)) pending.resolve({ value: reply.result, handle });
      else pending.reject(new IpcError('ERR_IPC_REPLY', `malformed reply to '${pending.type}': ${(JSON.stringify(reply.result) ?? 'no result').slice(0, 200)}`));
      return;
    }
    const handler = this.#options.handlers[message.type as In['type']] as (m: In, h: unknown) => void;
    handler(message as In, handle);
  }
}
