/**
 * The worker side of overseer, loaded into the app's process by the preload.
 *
 * Contract with the master (see docs/protocol.md):
 * - every `listen()` on a fixed port or unix path becomes a `listen` request;
 *   the handle that comes back is set up but held back (deferred-handle.ts);
 * - `ready` is sent once no `listen()` is pending (or, with `--wait-ready`,
 *   once the app says so and no `listen()` is pending);
 * - `activate` makes every held-back listener accept, and every later one
 *   accept at once;
 * - `drain`, the loss of the channel (the master died), or a SIGTERM/SIGINT
 *   sent to this worker directly (signals.ts; the master is told `draining`)
 *   stops accepting, ends keep-alive in-band (connections.ts), closes
 *   WebSockets with a close frame (websocket-close.ts), sends HTTP/2 sessions
 *   GOAWAY (http2-sessions.ts), runs shutdown hooks, and exits when no
 *   connection is left;
 * - `standby` (a warm rollback window) does the first half of a drain: stops
 *   accepting and tells connections to go, but runs no hook and keeps the
 *   process (and its code) alive; then `drain` finishes the drain, or
 *   `resume` asks the master for each closed listener again (`listen`
 *   requests; the master still holds the sockets) and accepts on it at once.
 *   A resumed server emits 'listening' again, as after any `listen()`;
 * - `heartbeat()` (called by the preload's timer, heartbeat.ts) reports the
 *   open connections and the requests received.
 * Lifetime: the channel keeps the process alive only while a `listen()`
 * awaits the master's reply or a listener is held back (a held-back handle
 * is not active, so nothing else would). Otherwise the app lives and ends
 * exactly as under plain `node`: a script with nothing to do exits at once,
 * and an app that closes its own servers exits by itself.
 */
import { systemClock } from '../clock.js';
import type { Server as HttpServer } from 'node:http';
import { type ListenAddress, formatAddress } from '../ipc/address.js';
import { Channel, type Port } from '../ipc/channel.js';
import type { Reply } from '../ipc/envelope.js';
import { IS_MASTER_RESULT_OF, type MasterResultOf, type OwnListenVia, type ToMaster } from '../ipc/to-master.js';
import { type ActivateMessage, type DrainMessage, type ResumeMessage, type StandbyMessage, type ToWorker, parseToWorker } from '../ipc/to-worker.js';
import { CloseSpread } from './close-spread.js';
import { HttpConnections } from './connections.js';
import { type DeferredListen, deferListen } from './deferred-handle.js';
import { Http2Sessions } from './http2-sessions.js';
import type { ListenPlan } from './listen-args.js';
import { countRequests } from './request-count.js';
import { WebSocketCloser } from './websocket-close.js';
import { IllegalTransition, type WorkerPhase, canTransition } from './phase.js';

const { Server: NetServer } = process.getBuiltinModule('node:net');
type NetServer = InstanceType<typeof NetServer>;

export interface WorkerInfo {
  readonly workerId: number;
  readonly generation: number;
  readonly waitReady: boolean;
  readonly drainTimeoutMs: number;
  /** `--close-spread`: window over which connections are told to go (close-spread.ts). */
  readonly closeSpreadMs: number;
  /** False with `--no-websocket-close`: WebSockets are the app's (websocket-close.ts). */
  readonly websocketClose: boolean;
  /** Heartbeat interval (heartbeat.ts); 0: none. */
  readonly heartbeatMs: number;
  /** `--hang-stack`: the hang timeout after which the watchdog thread logs the stack (hang-stack.ts); 0: no watchdog. */
  readonly hangStackMs: number;
}

export interface ShutdownContext {
  readonly reason: string;
  /** Resolves when every server has closed and every connection ended. */
  readonly idle: Promise<void>;
}
export type ShutdownHook = (context: ShutdownContext) => unknown;

interface Listener {
  readonly server: NetServer;
  readonly address: ListenAddress;
  readonly backlog: number | undefined;
  /** The current handle's; replaced when a standby worker resumes on a new handle. */
  deferred: DeferredListen;
  readonly http: HttpConnections | undefined;
  readonly websockets: WebSocketCloser | undefined;
  readonly http2: Http2Sessions;
}

type Internals = NetServer & {
  _handle: unknown;
  /** Open connections (Node's own count, kept by net.Server). */
  _connections: number;
  _pipeName?: string;
  _listen2?: (address: string | null, port: number, addressType: number, backlog?: number) => void;
};

const LISTEN_TIMEOUT_MS = 30_000;

export class WorkerRuntime {
  readonly info: WorkerInfo;
  readonly #channel: Channel<ToMaster, Exclude<ToWorker, Reply>, MasterResultOf>;
  readonly #listeners: Listener[] = [];
  readonly #hooks: ShutdownHook[] = [];
  /** Servers with a 'listening' listener of ownListen's; one per server, however often the app retries. */
  readonly #ownListenWatched = new WeakSet<NetServer>();
  readonly #spread: CloseSpread;
  #pendingListens = 0;
  #appSaidReady = false;
  /** Where this worker is in its lifecycle (phase.ts); changed only by `#enter()`. */
  #phase: WorkerPhase = 'booting';
  /**
   * Set once `activate` came (a fact, not a phase): a worker that began
   * draining before it was live has accepted nothing, so it may leave at once.
   */
  #wasLive = false;
  /** HTTP requests received on our listeners (request-count.ts). */
  #requests = 0;
  readonly #exit: (code: number) => void;
  readonly #keepAlive: (on: boolean) => void;

  constructor(port: Port, info: WorkerInfo, os: { exit: (code: number) => void; keepAlive: (on: boolean) => void }) {
    this.info = info;
    this.#spread = new CloseSpread(info);
    this.#exit = os.exit;
    this.#keepAlive = os.keepAlive;
    this.#channel = new Channel(port, {
      clock: systemClock,
      parse: parseToWorker,
      results: IS_MASTER_RESULT_OF,
      handlers: {
        activate: (message) => this.#activate(message),
        drain: (message) => this.#onDrain(message),
        standby: (message) => this.#onStandby(message),
        resume: (message) => void this.#onResume(message),
      },
      onInvalid: (value) => process.emitWarning(`overseer: ignored malformed message ${JSON.stringify(value)}`),
      onForeign: () => {}, // the app's own messages from elsewhere are not ours to judge
      onDisconnect: () => this.#masterGone(),
    });
    this.#updateHold();
  }

  get draining(): boolean {
    return this.#phase === 'draining';
  }

  #enter(phase: WorkerPhase): void {
    if (!canTransition(this.#phase, phase)) throw new IllegalTransition(this.#phase, phase);
    this.#phase = phase;
  }

  /** Route one `listen()` call to the master. Called with Node's listen already ruled out. */
  listen(server: NetServer, plan: Extract<ListenPlan, { kind: 'master' }>, settled: () => void): void {
    if (plan.callback) server.once('listening', plan.callback);
    this.#pendingListens++;
    this.#updateHold();
    this.#channel
      .request({ type: 'listen', address: plan.address }, LISTEN_TIMEOUT_MS)
      .then(({ value, handle }) => this.#install(server, plan, value, handle))
      .catch((error: unknown) => process.nextTick(() => server.emit('error', listenError(plan.address, error))))
      .finally(() => {
        settled();
        this.#pendingListens--;
        this.#updateHold();
        this.#maybeReady();
      });
  }

  /**
   * A `listen()` left to Node (port 0, a handle, an fd): once it listens,
   * tell the master where, so a worker that never gets ready can be
   * explained. Listens routed to the master on the same server are not
   * reported; they are in `#listeners` by the time 'listening' fires.
   */
  ownListen(server: NetServer, via: OwnListenVia): void {
    if (this.#ownListenWatched.has(server)) return;
    this.#ownListenWatched.add(server);
    server.once('listening', () => {
      this.#ownListenWatched.delete(server);
      if (this.#listeners.some((l) => l.server === server)) return;
      const address = addressOf(server.address());
      if (address) this.#channel.send({ type: 'own-listener', address, via }).catch(() => {});
    });
  }

  /** One heartbeat to the master, with this worker's counts (the preload's timer calls it). Settles once written, or failed. */
  heartbeat(): Promise<void> {
    let connections = 0;
    for (const l of this.#listeners) connections += (l.server as Internals)._connections || 0;
    return this.#channel.send({ type: 'heartbeat', connections, requests: this.#requests }).catch(() => {});
  }

  /** The app's `ready()` (or PM2-style `process.send('ready')`). */
  appReady(): void {
    this.#appSaidReady = true;
    this.#maybeReady();
  }

  onShutdown(hook: ShutdownHook): void {
    this.#hooks.push(hook);
  }

  /**
   * A SIGTERM/SIGINT reached this worker directly and the app does not handle
   * it: tell the master (which starts a replacement) and drain as if asked.
   */
  drainOnSignal(signal: 'SIGTERM' | 'SIGINT'): void {
    if (this.#phase === 'draining') return;
    this.#channel.send({ type: 'draining', signal }).catch(() => {});
    void this.#drain('signal', this.info.drainTimeoutMs);
  }

  #install(server: NetServer, plan: Extract<ListenPlan, { kind: 'master' }>, bound: ListenAddress, handle: unknown): void {
    if (!handle || typeof (handle as { listen?: unknown }).listen !== 'function') {
      throw new Error(`master sent no handle for ${formatAddress(plan.address)}`);
    }
    const deferred = setUpHandle(server, bound, handle, plan.backlog);
    // http(s).Server, and an HTTP/2 secure server with `allowHTTP1` (Node 20
    // and 22 give it `headersTimeout` but no `keepAliveTimeout`): its HTTP/1.1
    // connections drain in-band too.
    const http = 'keepAliveTimeout' in server || 'headersTimeout' in server ? new HttpConnections(server as HttpServer, this.#spread) : undefined;
    const websockets = http && this.info.websocketClose ? new WebSocketCloser(server as HttpServer, this.#spread) : undefined;
    const listener: Listener = { server, address: bound, backlog: plan.backlog, deferred, http, websockets, http2: new Http2Sessions(server) };
    this.#listeners.push(listener);
    countRequests(server, () => this.#requests++);
    // A standby worker keeps its closed listeners, to resume them.
    const onClose = () => {
      if (this.#phase === 'standby') return;
      server.off('close', onClose);
      http?.stop();
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
      this.#updateHold();
    };
    server.on('close', onClose);
    if (this.#phase === 'live' || (this.#phase === 'draining' && this.#wasLive)) this.#activateOne(listener);
    if (this.#phase === 'draining') this.#stopAccepting(listener);
  }

  #maybeReady(): void {
    if (this.#phase !== 'booting' || this.#pendingListens > 0) return;
    if (this.info.waitReady ? !this.#appSaidReady : this.#listeners.length === 0) return;
    // Let listen() calls made in the same turn (several servers) register first.
    setImmediate(() => {
      // A drain or an activate in between: no `ready` (a draining worker never gets ready).
      if (this.#phase !== 'booting' || this.#pendingListens > 0) return;
      this.#enter('ready-sent');
      const listeners = this.#listeners.map((l) => l.address);
      this.#channel.send({ type: 'ready', listeners }).catch(() => {});
    });
  }

  #activateOne(listener: Listener): void {
    const err = listener.deferred.activate();
    if (err !== 0) {
      listener.server.emit('error', Object.assign(new Error(`listen errno ${err} on ${formatAddress(listener.address)}`), { errno: err, syscall: 'listen' }));
    }
  }

  /**
   * Keep the process alive through the channel only while nothing else can
   * (see above). Derived each time, not stored: `keepAlive` (ref/unref of the
   * channel) is idempotent.
   */
  #updateHold(): void {
    // In standby nothing of ours is open, yet the worker must stay to resume.
    this.#keepAlive(this.#pendingListens > 0 || this.#phase === 'standby' || this.#listeners.some((l) => !l.deferred.active));
  }

  #activate(message: ActivateMessage): void {
    this.#wasLive = true;
    if (this.#phase === 'booting' || this.#phase === 'ready-sent') this.#enter('live');
    const failed: string[] = [];
    for (const listener of this.#listeners) {
      const err = listener.deferred.activate();
      if (err !== 0) failed.push(`${formatAddress(listener.address)} (errno ${err})`);
    }
    this.#updateHold();
    const outcome = failed.length === 0
      ? { result: { listeners: this.#listeners.length } }
      : { error: { code: 'ERR_ACTIVATE', message: `could not accept on ${failed.join(', ')}` } };
    this.#channel.reply(message.seq, outcome).catch(() => {});
  }

  #onDrain(message: DrainMessage): void {
    void this.#drain(message.reason, message.timeoutMs);
  }

  /** Stop accepting, tell connections to go, keep running (see above). Acked once every listener is closed. */
  #onStandby(message: StandbyMessage): void {
    if (this.#phase !== 'live' && this.#phase !== 'standby') {
      const why = this.#phase === 'draining' ? 'draining' : 'not live yet';
      this.#channel.reply(message.seq, { error: { code: 'ERR_STANDBY', message: `cannot stand by: ${why}` } }).catch(() => {});
      return;
    }
    if (this.#phase === 'live') {
      this.#enter('standby');
      this.#updateHold();
      this.#spread.start();
      // Closing is immediate (no accept after close()); the connections finish in their own time.
      for (const listener of this.#listeners) void this.#stopAccepting(listener);
    }
    this.#channel.reply(message.seq, { result: { listeners: this.#listeners.length } }).catch(() => {});
  }

  /** Accept again on every listener closed by `standby`, on handles asked anew from the master. */
  async #onResume(message: ResumeMessage): Promise<void> {
    if (this.#phase !== 'standby') {
      const outcome = this.#phase === 'live'
        ? { result: { listeners: this.#listeners.length } }
        : { error: { code: 'ERR_RESUME', message: this.#phase === 'draining' ? 'cannot resume: draining' : 'cannot resume: not live yet' } };
      this.#channel.reply(message.seq, outcome).catch(() => {});
      return;
    }
    this.#pendingListens++; // holds the process until the handles are back
    this.#enter('live');
    this.#spread.reset();
    const listeners = [...this.#listeners];
    for (const l of listeners) {
      l.http?.resume();
      l.websockets?.resume();
      l.http2.resume();
    }
    const results = await Promise.allSettled(listeners.map((l) => this.#relisten(l)));
    this.#pendingListens--;
    this.#updateHold();
    const failed: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') failed.push(`${formatAddress(listeners[i]!.address)} (${(r.reason as Error).message ?? String(r.reason)})`);
    });
    const outcome = failed.length === 0
      ? { result: { listeners: listeners.length } }
      : { error: { code: 'ERR_RESUME', message: `could not accept on ${failed.join(', ')}` } };
    this.#channel.reply(message.seq, outcome).catch(() => {});
  }

  async #relisten(listener: Listener): Promise<void> {
    if ((listener.server as Internals)._handle) {
      // Set up during the standby (held back then): accept now.
      if (!listener.deferred.active && this.#phase !== 'draining') this.#activateOne(listener);
      return;
    }
    const { handle } = await this.#channel.request({ type: 'listen', address: listener.address }, LISTEN_TIMEOUT_MS);
    if (!handle || typeof (handle as { listen?: unknown }).listen !== 'function') throw new Error('master sent no handle');
    listener.deferred = setUpHandle(listener.server, listener.address, handle, listener.backlog);
    if (this.#phase === 'draining') void this.#stopAccepting(listener); // a drain came while we asked
    else this.#activateOne(listener);
  }

  #masterGone(): void {
    // Not yet live: nothing was accepted, so nothing is lost by leaving now.
    if (!this.#wasLive) this.#leave(1);
    else void this.#drain('master-gone', this.info.drainTimeoutMs);
  }

  #stopAccepting(listener: Listener): Promise<void> {
    listener.http?.drain();
    listener.websockets?.drain();
    listener.http2.drain();
    const server = listener.server as Internals;
    return new Promise((resolve) => {
      // net.Server's close, not http.Server's: the latter also closes idle
      // keep-alive connections at once, which races clients reusing them.
      if (server._handle) NetServer.prototype.close.call(server, () => resolve());
      // Closed already (standby, or by the app): idle once its connections end ('close' fires then).
      else if (!server._connections) resolve();
      else server.once('close', () => resolve());
    });
  }

  async #drain(reason: string, timeoutMs: number): Promise<void> {
    if (this.#phase === 'draining' || this.#phase === 'exited') return;
    this.#enter('draining'); // a standby worker finishes its drain too: hooks, exit
    const started = Date.now();
    this.#spread.start(started);
    // Our own deadline, for when the master is gone and cannot escalate.
    setTimeout(() => this.#leave(1), timeoutMs + 1_000).unref();
    const idle = Promise.all([...this.#listeners].map((l) => this.#stopAccepting(l))).then(() => {});
    const hooks = this.#hooks.map((hook) => Promise.resolve().then(() => hook({ reason, idle })));
    const results = await Promise.allSettled(hooks);
    for (const r of results) if (r.status === 'rejected') process.emitWarning(`overseer: shutdown hook failed: ${String(r.reason)}`);
    await idle;
    // A last beat, written before the exit: the requests counted since the
    // previous one still reach the master's total (--metrics).
    if (this.info.heartbeatMs > 0) await this.heartbeat();
    this.#leave(0);
  }

  #leave(code: number): void {
    if (this.#phase !== 'exited') this.#enter('exited');
    this.#exit(code);
  }
}

/**
 * Install a handle from the master on `server`, held back (deferred-handle.ts).
 * Same steps as Node's cluster worker: an installed handle, then the regular
 * setup, which emits 'listening' on the next tick.
 */
function setUpHandle(server: NetServer, bound: ListenAddress, handle: unknown, backlog: number | undefined): DeferredListen {
  const internals = server as Internals;
  const deferred = deferListen(handle as { listen(backlog: number): number });
  internals._handle = handle;
  if (bound.kind === 'unix') {
    internals._pipeName = bound.path;
    internals._listen2?.(bound.path, -1, -1, backlog);
  } else {
    const host = bound.host ?? '::';
    internals._listen2?.(host, bound.port, host.includes(':') ? 6 : 4, backlog);
  }
  return deferred;
}

function addressOf(address: ReturnType<NetServer['address']>): ListenAddress | undefined {
  if (typeof address === 'string') return address === '' ? undefined : { kind: 'unix', path: address };
  return address ? { kind: 'tcp', host: address.address, port: address.port } : undefined;
}

function listenError(address: ListenAddress, cause: unknown): Error {
  const remote = (cause as { cause?: { code?: string } }).cause;
  const code = remote?.code ?? 'EOVERSEER';
  const error = new Error(`listen ${code}: ${(cause as Error).message ?? String(cause)}`, { cause });
  return Object.assign(error, {
    code,
    syscall: 'listen',
    ...(address.kind === 'tcp' ? { address: address.host ?? '::', port: address.port } : { address: address.path }),
  });
}
