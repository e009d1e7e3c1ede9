/**
 * One worker process as the master sees it: its state (worker-state.ts), its
 * typed IPC channel, the listeners handed to it, and one `exited` promise.
 *
 * The handle answers the worker's `listen` requests itself (with the
 * `acquire` function it is given) and reports facts as typed events; it makes
 * no decisions about generations, which belong to the master.
 */
import { EventEmitter } from 'node:events';
import { type ListenAddress, formatAddress } from '../../ipc/address.js';
import { Channel } from '../../ipc/channel.js';
import type { Reply } from '../../ipc/envelope.js';
import type { DrainingMessage, ListenRequest, OwnListenVia, OwnListenerMessage, ReadyMessage, ToMaster } from '../../ipc/to-master.js';
import { parseToMaster } from '../../ipc/to-master.js';
import { refuseHandles } from '../../ipc/refuse-handles.js';
import { type DrainReason, IS_WORKER_RESULT_OF, type ToWorker, type WorkerResultOf } from '../../ipc/to-worker.js';
import { OverseerError, systemCode } from '../../errors.js';
import type { Clock } from '../../clock.js';
import type { WorkerFacts } from '../events.js';
import type { HeldListener } from '../sockets/listeners.js';
import type { Outlets } from '../output/outlet.js';
import type { WorkerProcess } from '../spawn/spawner.js';
import { WorkerOutput } from '../output/worker-output.js';
import { IllegalTransition, type WorkerState, canTransition } from './worker-state.js';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The state the worker was in when it exited. */
  readonly state: WorkerState;
  /** Set when the drain deadline forced the exit. */
  readonly forced: 'SIGTERM' | 'SIGKILL' | undefined;
  readonly stderrTail: readonly string[];
}

export interface WorkerHandleEvents {
  state: [from: WorkerState, to: WorkerState];
  ready: [];
  exit: [info: ExitInfo];
  listen: [listener: HeldListener];
  /** The app listens somewhere by itself (not on a socket the master holds). */
  'own-listener': [listener: OwnListener];
  /** The worker's event loop turned (its `heartbeat`, with its counts); the hang detector listens (health/). */
  heartbeat: [counts: { readonly connections: number; readonly requests: number }];
  /** A message that is ours but malformed, or the app's own traffic. */
  message: [kind: 'invalid' | 'foreign', value: unknown];
  /** A live worker started draining on its own (a signal sent to it directly). */
  'self-drain': [signal: 'SIGTERM' | 'SIGINT'];
  /** The worker sent a handle (Node's type name); it was closed on arrival. */
  'handle-refused': [type: string];
}

export interface WorkerHandleDeps {
  readonly clock: Clock;
  readonly acquire: (address: ListenAddress) => Promise<HeldListener>;
  /** Where the worker's stdout and stderr are relayed (the master's own). */
  readonly output: Outlets;
}

/** What the app listens on by itself (port 0, a handle, an fd), as the worker reported it. */
export interface OwnListener {
  readonly address: ListenAddress;
  readonly via: OwnListenVia;
}

/** Own listeners remembered per worker: enough to explain a failed start, bounded whatever the app does. */
const OWN_LISTENERS_KEPT = 8;
/** How long to wait after exit for the last output before reporting. */
const OUTPUT_SETTLE_MS = 200;

export class WorkerHandle extends EventEmitter<WorkerHandleEvents> {
  readonly id: number;
  readonly generation: number;
  readonly slot: number;
  /** Crash replacements in this slot before this worker. */
  readonly restarts: number;
  readonly pid: number | undefined;
  readonly spawnedAt: number;
  /** When the worker's first `listen` request was answered with a socket (upgrade phase times). */
  listeningAt: number | undefined;
  readyAt: number | undefined;
  liveAt: number | undefined;
  drainStartedAt: number | undefined;
  /** Open connections on the servers handed over, from the last heartbeat; undefined before one (or with `--exec`). */
  connections: number | undefined;
  /** Keys of the listeners handed to this worker. */
  readonly listenerKeys = new Set<string>();
  /** The first few addresses the app listens on by itself (at most OWN_LISTENERS_KEPT). */
  readonly ownListeners: OwnListener[] = [];
  readonly exited: Promise<ExitInfo>;

  #state: WorkerState = 'starting';
  readonly #proc: WorkerProcess;
  readonly #deps: WorkerHandleDeps;
  readonly #channel: Channel<ToWorker, Exclude<ToMaster, Reply>, WorkerResultOf>;
  readonly #timers: Array<() => void> = [];
  readonly #output: WorkerOutput;
  #forced: ExitInfo['forced'];

  constructor(proc: WorkerProcess, meta: { id: number; generation: number; slot: number; restarts?: number }, deps: WorkerHandleDeps) {
    super();
    this.id = meta.id;
    this.generation = meta.generation;
    this.slot = meta.slot;
    this.restarts = meta.restarts ?? 0;
    this.pid = proc.pid;
    this.#proc = proc;
    this.#deps = deps;
    this.spawnedAt = deps.clock.now();
    this.#output = new WorkerOutput(proc, deps.output, { clock: deps.clock, pid: proc.pid });
    this.#channel = new Channel(proc, {
      clock: deps.clock,
      parse: parseToMaster,
      results: IS_WORKER_RESULT_OF,
      handlers: {
        listen: (message) => this.#onListen(message),
        ready: (message) => this.#onReady(message),
        draining: (message) => this.#onDraining(message),
        'own-listener': (message) => this.#onOwnListener(message),
        heartbeat: ({ connections, requests }) => {
          this.connections = connections;
          this.emit('heartbeat', { connections, requests });
        },
      },
      onInvalid: (value) => this.emit('message', 'invalid', value),
      onForeign: (value) => this.emit('message', 'foreign', value),
    });
    // The master never accepts a connection nor keeps a handle it did not ask
    // for, and it asks a worker for none: every handle is closed on arrival.
    refuseHandles(proc, (type) => this.emit('handle-refused', type));
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        const state = this.#state;
        this.#output.settle(OUTPUT_SETTLE_MS, () => {
          this.#transition('exited');
          for (const cancel of this.#timers.splice(0)) cancel();
          this.#channel.close();
          // A forced exit by SIGKILL says so even when it came before our own SIGKILL (--exec: SIGKILL at the deadline).
          const forced = this.#forced && signal === 'SIGKILL' ? 'SIGKILL' : this.#forced;
          const info: ExitInfo = { code, signal, state, forced, stderrTail: [...this.#output.stderrTail] };
          this.emit('exit', info);
          resolve(info);
        });
      };
      proc.on('exit', finish);
      // A process that could not be spawned at all emits 'error' and no 'exit'.
      proc.on('error', (error) => {
        if (this.pid === undefined) {
          this.#output.note(`spawn failed: ${error.message}`);
          finish(null, null);
        }
      });
    });
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Who this worker is, as every worker event carries it. */
  get facts(): WorkerFacts {
    return { workerId: this.id, generation: this.generation, slot: this.slot, pid: this.pid };
  }

  /** Let the worker accept connections. Resolves once it confirms. */
  async activate(timeoutMs: number): Promise<void> {
    await this.#channel.request({ type: 'activate' }, timeoutMs);
    if (this.#state === 'ready') {
      this.liveAt = this.#deps.clock.now();
      this.#transition('live');
    }
  }

  /**
   * Warm standby (`--rollback-window`): a live worker stops accepting and
   * ends its keep-alive connections in-band, but keeps running, hooks not
   * called. Returns false (and does nothing) for a worker that is not live.
   */
  standby(timeoutMs: number): boolean {
    if (this.#state !== 'live') return false;
    this.#transition('standby');
    this.#channel.request({ type: 'standby' }, timeoutMs).catch(() => this.kill('SIGKILL'));
    return true;
  }

  /** A standby worker accepts again (a rollback); resolves once it confirms, rejects if it does not. */
  async resume(timeoutMs: number): Promise<void> {
    if (this.#state !== 'standby') throw new Error(`cannot resume a worker in state ${this.#state}`);
    await this.#channel.request({ type: 'resume' }, timeoutMs);
    if (this.#state === 'standby') {
      this.liveAt = this.#deps.clock.now();
      this.#transition('live');
    }
  }

  /**
   * Take the worker out of service: a live one drains (`drain()`); one that
   * is not live yet has accepted nothing and is killed at once. A worker
   * draining or gone already is left as it is.
   */
  dismiss(reason: DrainReason, timeoutMs: number, killTimeoutMs: number): void {
    if (this.#state === 'live' || this.#state === 'standby') this.drain(reason, timeoutMs, killTimeoutMs);
    else if (this.#state !== 'exited' && this.#state !== 'draining') this.kill('SIGKILL');
  }

  /**
   * Ask a live (or standby) worker to drain; returns false (and does nothing) for any
   * other. At `timeoutMs` it gets SIGTERM, and SIGKILL `killTimeoutMs` later.
   */
  drain(reason: DrainReason, timeoutMs: number, killTimeoutMs: number): boolean {
    if (this.#state !== 'live' && this.#state !== 'standby') return false;
    this.drainStartedAt = this.#deps.clock.now();
    this.#transition('draining');
    this.#channel.send({ type: 'drain', reason, timeoutMs }).catch(() => this.kill('SIGTERM'));
    this.#timers.push(
      this.#deps.clock.setTimeout(() => {
        this.#forced = 'SIGTERM';
        this.kill('SIGTERM');
      }, timeoutMs),
      this.#deps.clock.setTimeout(() => {
        this.#forced = 'SIGKILL';
        this.kill('SIGKILL');
      }, timeoutMs + killTimeoutMs),
    );
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#state === 'exited') return;
    try {
      this.#proc.kill(signal);
    } catch {
      // already gone: the exit event follows
    }
  }

  get stderrTail(): readonly string[] {
    return this.#output.stderrTail;
  }

  #transition(to: WorkerState): void {
    const from = this.#state;
    if (from === to) return;
    if (!canTransition(from, to)) throw new IllegalTransition(from, to);
    this.#state = to;
    this.emit('state', from, to);
  }

  #onReady(_message: ReadyMessage): void {
    if (this.#state !== 'starting') return;
    this.readyAt = this.#deps.clock.now();
    this.#transition('ready');
    this.emit('ready');
  }

  #onDraining(message: DrainingMessage): void {
    // Only a live worker needs replacing; one not yet live has accepted
    // nothing, and its exit is reported as a failed start.
    if (this.#state === 'live') this.emit('self-drain', message.signal);
  }

  #onOwnListener(message: OwnListenerMessage): void {
    if (this.ownListeners.length >= OWN_LISTENERS_KEPT) return;
    const listener = { address: message.address, via: message.via };
    this.ownListeners.push(listener);
    this.emit('own-listener', listener);
  }

  #onListen(message: ListenRequest): void {
    this.#deps.acquire(message.address).then(
      (held) => {
        this.listenerKeys.add(held.key);
        this.listeningAt ??= this.#deps.clock.now();
        this.emit('listen', held);
        return this.#channel.reply(message.seq, { result: held.address }, held.handle);
      },
      (error: unknown) => {
        const code = (error instanceof OverseerError ? systemCode((error as { cause?: unknown }).cause) : systemCode(error)) ?? 'EOVERSEER';
        const text = error instanceof Error ? error.message : String(error);
        return this.#channel.reply(message.seq, { error: { code, message: text || `cannot listen on ${formatAddress(message.address)}` } });
      },
    ).catch(() => {}); // the worker is gone; its exit is reported separately
  }
}
