/**
 * The Master: holds the listening sockets and owns the worker generations.
 *
 * Upgrade contract (docs/upgrade.md):
 * - one upgrade at a time; triggers during an upgrade coalesce into a single
 *   follow-up, so the last deployed version wins;
 * - the new generation is started, raced and activated by bring-up/bring-up.ts; only
 *   when every new worker accepts is the old generation told to drain, so no
 *   connection ever meets a closed listener;
 * - a new generation that fails is killed (it accepted nothing) and the old
 *   one keeps serving.
 * Crash contract: a live worker of the current generation that exits is
 * replaced in its slot, with backoff (generations/restart.ts). One that drains on its own
 * (a SIGTERM sent to it directly) is replaced at once, without backoff.
 */
import { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { ENV } from '../ipc/env.js';
import type { Clock } from './os/clock.js';
import { credentialsBinder, foreignCredentials } from './sockets/bind-as.js';
import type { MasterContext } from './context.js';
import type { MasterStatus } from '../ipc/control.js';
import type { MasterEvents, UpgradeResult } from './events.js';
import { type Generation, type Slot, createGeneration, isAllLive } from './generations/generation.js';
import { retire } from './generations/retire.js';
import { Listeners } from './sockets/listeners.js';
import type { MasterOptions } from './options/options.js';
import type { Outlets } from './output/outlet.js';
import { findProgram } from './spawn/find-program.js';
import { removePidFile, writePidFile } from './os/pid-file.js';
import { preflight } from './options/preflight.js';
import { fillSlot, scheduleRestart } from './generations/restart.js';
import type { InheritedSocket } from './systemd/socket-activation.js';
import type { Spawner } from './spawn/spawner.js';
import { masterStatus } from './status.js';
import { runUpgrade } from './generations/run-upgrade.js';
import { WorkerHandle } from './workers/worker-handle.js';

export type MasterState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** The outcome of the most recent upgrade, for `overseer status`. */
export type LastUpgrade = UpgradeResult & { readonly trigger: string; readonly finishedAt: string };

export interface MasterDeps {
  readonly spawner: Spawner;
  readonly clock: Clock;
  /** Where workers' stdout and stderr are relayed (the master's own, shared with its log). */
  readonly output: Outlets;
  /** The master's pid, as written to the PID file. */
  readonly pid: number;
  /** Sockets systemd passed in (socket-activation.ts): held instead of binding the addresses they match. */
  readonly inherited?: readonly InheritedSocket[];
  /** The control socket's path, recorded beside the PID file (src/ipc/control-record.ts). */
  readonly controlPath?: string;
}

interface FollowUp {
  trigger: string;
  readonly promise: Promise<UpgradeResult>;
  readonly resolve: (result: UpgradeResult) => void;
}

export class Master extends EventEmitter<MasterEvents> {
  readonly options: MasterOptions;
  readonly sockets: Listeners;
  readonly #deps: MasterDeps;
  readonly #context: MasterContext;
  readonly #stopController = new AbortController();
  readonly #workers = new Set<WorkerHandle>();
  readonly #announcedListeners = new Set<string>();
  #state: MasterState = 'created';
  #generationSeq = 0;
  #workerSeq = 0;
  #current: Generation | undefined;
  /** The upgrade running now, if any, and the one follow-up queued behind it. */
  #running: Promise<UpgradeResult> | undefined;
  #followUp: FollowUp | undefined;
  #stopped: Promise<void> | undefined;
  #announcedReady = false;
  #startedAt: number | undefined;
  #lastUpgrade: LastUpgrade | undefined;

  constructor(options: MasterOptions, deps: MasterDeps) {
    super();
    this.options = options;
    this.#deps = deps;
    const foreign = foreignCredentials(options.uid, options.gid);
    this.sockets = new Listeners(options.cwd, foreign && credentialsBinder(foreign));
    this.#context = {
      options,
      clock: deps.clock,
      stopSignal: this.#stopController.signal,
      running: () => this.#state === 'running',
      spawn: (generation, slot) => this.#spawn(generation, slot),
      emit: (event, ...args) => void (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
      held: () => this.sockets.all.map((l) => l.address),
      slotLive: (generation) => this.#announceReadyOnce(generation),
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      deps.output[stream].onDropped = (dropped) => this.emit('output.dropped', { stream, ...dropped });
    }
  }

  get state(): MasterState {
    return this.#state;
  }

  get workers(): readonly WorkerHandle[] {
    return [...this.#workers];
  }

  get currentGeneration(): number | undefined {
    return this.#current?.number;
  }

  get pid(): number {
    return this.#deps.pid;
  }

  /** Clock time when start() was called; undefined before. */
  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  get upgrading(): boolean {
    return this.#running !== undefined;
  }

  get lastUpgrade(): LastUpgrade | undefined {
    return this.#lastUpgrade;
  }

  /** A snapshot for `overseer status`. */
  status(): MasterStatus {
    return masterStatus(this, this.#deps.clock.now());
  }

  /**
   * Bind every `--listen` address, write the PID file, start the first
   * generation. Throws (leaving nothing bound or written) if any step fails;
   * the first generation's own failures are retried with backoff instead.
   */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new Error(`start() called in state ${this.#state}`);
    this.#state = 'starting';
    this.#startedAt = this.#deps.clock.now();
    await preflight(this.options); // a script or --node-arg no worker could start with: ConfigError
    await this.sockets.bindConfigured(this.options.listen, this.#deps.inherited);
    if (this.#state !== 'starting') {
      // stop() was called while we were binding: it has finished; undo the bind.
      this.sockets.closeAll();
      return;
    }
    if (this.options.exec && !this.sockets.all.some((l) => l.configured)) {
      // An --exec program gets its sockets at start; it cannot ask for one later.
      this.sockets.closeAll();
      throw new ConfigError('--exec needs a socket to hand over: give --listen (or start under systemd socket activation)');
    }
    try {
      if (this.options.pidFile) writePidFile(this.options.pidFile, this.#deps.pid, this.#deps.controlPath);
    } catch (error) {
      this.sockets.closeAll();
      throw error;
    }
    this.#state = 'running';
    for (const held of this.sockets.all) if (held.inherited) this.emit('listener.inherited', { address: held.address, ...held.inherited });
    this.emit('master.started', { pid: this.#deps.pid, listeners: this.sockets.all.map((l) => l.address) });
    const generation = createGeneration(++this.#generationSeq, this.options);
    this.#current = generation;
    for (const slot of generation.slots) void fillSlot(this.#context, generation, slot);
  }

  /**
   * Start a new generation and, once all of it accepts, drain the old one.
   * Resolves with the outcome of this upgrade or of the follow-up it was
   * coalesced into; never rejects.
   */
  upgrade(trigger: string): Promise<UpgradeResult> {
    if (this.#state !== 'running') {
      return Promise.resolve(stoppingResult(`cannot upgrade while ${this.#state}`));
    }
    if (!this.#running) return this.#startRun(trigger);
    this.emit('upgrade.coalesced', { trigger });
    if (this.#followUp) {
      this.#followUp.trigger = trigger;
      return this.#followUp.promise;
    }
    let resolveFollowUp!: (result: UpgradeResult) => void;
    const promise = new Promise<UpgradeResult>((r) => (resolveFollowUp = r));
    this.#followUp = { trigger, promise, resolve: resolveFollowUp };
    return promise;
  }

  /**
   * Graceful stop: abort a running upgrade, drain every live worker, wait for
   * every worker to exit, release the sockets and the PID file. Idempotent.
   */
  stop(reason = 'stop'): Promise<void> {
    return this.#stop(reason, true);
  }

  /** Stop at once: SIGKILL every worker, then finish as `stop()` does. Also escalates a graceful stop. */
  kill(reason = 'kill'): Promise<void> {
    const stopping = this.#stopped ? this.#escalate(reason) : this.#stop(reason, false);
    for (const worker of this.#workers) worker.kill('SIGKILL');
    return stopping;
  }

  #escalate(reason: string): Promise<void> {
    this.emit('master.stopping', { reason, graceful: false });
    return this.#stopped!;
  }

  #stop(reason: string, graceful: boolean): Promise<void> {
    if (this.#stopped) return this.#stopped;
    const started = this.#deps.clock.now();
    this.#state = 'stopping';
    this.emit('master.stopping', { reason, graceful });
    this.#stopController.abort();
    const followUp = this.#followUp;
    this.#followUp = undefined;
    followUp?.resolve(stoppingResult('master is stopping'));
    this.#stopped = (async () => {
      while (this.#running) await this.#running;
      if (this.#current) retire(this.#context, this.#current, 'stop');
      await Promise.all([...this.#workers].map((w) => w.exited));
      this.sockets.closeAll();
      if (this.options.pidFile) removePidFile(this.options.pidFile, this.#deps.pid);
      this.#state = 'stopped';
      this.emit('master.stopped', { durationMs: Math.round(this.#deps.clock.now() - started) });
    })();
    return this.#stopped;
  }

  /**
   * Run one upgrade; when it settles, start the coalesced follow-up if there
   * is one. Both happen synchronously in the settle callback, before any
   * caller's continuation runs, so an `upgrade()` called right after another
   * resolved starts a fresh run rather than joining a finished one.
   */
  #startRun(trigger: string): Promise<UpgradeResult> {
    const run = this.#upgradeOnce(trigger).catch((error: unknown) => this.#internalFailure(error)).then((result) => {
      this.#lastUpgrade = { ...result, trigger, finishedAt: new Date().toISOString() };
      const next = this.#followUp;
      this.#followUp = undefined;
      if (next) void this.#startRun(next.trigger).then(next.resolve);
      else this.#running = undefined;
      return result;
    });
    this.#running = run;
    return run;
  }

  /** An upgrade that threw (a bug, or a listener that threw) must not wedge the next ones. */
  #internalFailure(error: unknown): UpgradeResult {
    const result: UpgradeResult = {
      ok: false, generation: undefined, reason: 'internal-error', durationMs: 0,
      message: error instanceof Error ? error.message : String(error),
    };
    try {
      this.emit('upgrade.failed', result);
    } catch {
      // the listener that threw may throw again; the result still stands
    }
    return result;
  }

  async #upgradeOnce(trigger: string): Promise<UpgradeResult> {
    const next = createGeneration(++this.#generationSeq, this.options);
    this.emit('upgrade.started', { generation: next.number, trigger });
    const result = await runUpgrade(this.#context, next, this.#current);
    if (!result.ok) {
      this.emit('upgrade.failed', result);
      return result;
    }
    // Every new worker accepts: only now is the old generation drained.
    const previous = this.#current;
    this.#current = next;
    for (const slot of next.slots) if (slot.worker) this.emit('worker.live', slot.worker.facts);
    this.emit('upgrade.succeeded', { generation: next.number, previous: previous?.number, pids: [...result.pids], durationMs: result.durationMs });
    if (previous) retire(this.#context, previous, 'upgrade');
    this.#announceReadyOnce(next);
    return result;
  }

  /** Fork one worker from the script as it is on disk now, and follow it. */
  #spawn(generation: Generation, slot: Slot): WorkerHandle {
    const o = this.options;
    // Re-resolved at every spawn: a deploy that swaps `current -> releases/N`
    // is picked up by the next generation.
    const cwd = realpathOr(o.cwd);
    const script = o.exec ? findProgram(o.script, o.cwd) : realpathOr(resolve(o.cwd, o.script));
    // PORT comes from --listen only, so it does not change between generations
    // when a worker asks for an address of its own.
    const tcp = this.sockets.all.flatMap((l) => (l.configured && l.address.kind === 'tcp' ? [l.address] : []));
    const id = ++this.#workerSeq;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [ENV.workerId]: String(id),
      [ENV.generation]: String(generation.number),
      [ENV.waitReady]: o.waitReady ? '1' : '0',
      [ENV.drainTimeout]: String(o.drainTimeoutMs),
      [ENV.closeSpread]: String(o.closeSpreadMs),
      [ENV.websocketClose]: o.websocketClose ? '1' : '0',
      [ENV.name]: o.name,
      ...(tcp.length === 1 ? { PORT: String(tcp[0]!.port) } : {}),
    };
    // --exec: every socket held from the start, at fds 3… (a program cannot ask for more later).
    const exec = o.exec ? { listeners: this.sockets.all.filter((l) => l.configured), readyDelayMs: o.readyDelayMs } : undefined;
    const proc = this.#deps.spawner.spawn({ script, args: o.scriptArgs, cwd, env, nodeArgs: o.nodeArgs, uid: o.uid, gid: o.gid, exec });
    const worker = new WorkerHandle(proc, { id, generation: generation.number, slot: slot.index, restarts: slot.restarts }, {
      clock: this.#deps.clock,
      output: this.#deps.output,
      acquire: (address) => this.sockets.acquire(address),
    });
    slot.worker = worker;
    this.#workers.add(worker);
    this.#follow(worker, generation, slot);
    this.emit('worker.spawned', { ...worker.facts, script, cwd });
    return worker;
  }

  #follow(worker: WorkerHandle, generation: Generation, slot: Slot): void {
    const workerFacts = worker.facts;
    worker.on('ready', () => {
      this.emit('worker.ready', { ...workerFacts, startupMs: Math.round((worker.readyAt ?? 0) - worker.spawnedAt) });
    });
    worker.on('listen', (held) => {
      if (held.configured || this.#announcedListeners.has(held.key)) return;
      this.#announcedListeners.add(held.key);
      this.emit('listener.bound', { ...workerFacts, address: held.address });
    });
    worker.on('own-listener', ({ address, via }) => this.emit('listener.own', { ...workerFacts, address, via }));
    worker.on('message', (kind, value) => this.emit('worker.message', { ...workerFacts, kind, value }));
    worker.on('self-drain', (signal) => {
      // Not a crash: the worker drains gracefully, and the slot gets a new
      // worker at once (no backoff) while it does. The master holds it to the
      // usual drain deadline.
      this.emit('drain.started', { ...workerFacts, reason: 'signal', signal });
      worker.drain('signal', this.options.drainTimeoutMs, this.options.killTimeoutMs);
      if (slot.worker === worker && !generation.retired && this.#state === 'running') void fillSlot(this.#context, generation, slot);
    });
    worker.on('handle-refused', (handleType) => this.emit('worker.handle-refused', { ...workerFacts, handleType }));
    worker.on('exit', (info) => {
      this.#workers.delete(worker);
      const now = this.#deps.clock.now();
      const since = worker.liveAt ?? worker.spawnedAt;
      const expected = info.state !== 'live' || generation.retired || this.#state !== 'running';
      this.emit('worker.exited', {
        ...workerFacts, code: info.code, signal: info.signal, state: info.state, expected, uptimeMs: Math.round(now - since),
      });
      if (info.state === 'draining') {
        this.emit('drain.finished', {
          ...workerFacts, durationMs: Math.round(now - (worker.drainStartedAt ?? since)),
          forced: info.forced, code: info.code, signal: info.signal,
        });
      }
      if (!expected && slot.worker === worker) scheduleRestart(this.#context, generation, slot, now - since);
    });
  }

  #announceReadyOnce(generation: Generation): void {
    if (this.#announcedReady || !isAllLive(generation)) return;
    this.#announcedReady = true;
    for (const held of this.sockets.all) {
      if (held.configured && !generation.slots.some((s) => s.worker?.listenerKeys.has(held.key))) {
        this.emit('listener.unused', { address: held.address });
      }
    }
    this.emit('master.ready', { generation: generation.number, pids: generation.slots.map((s) => s.worker?.pid) });
  }
}

function stoppingResult(message: string): UpgradeResult {
  return { ok: false, generation: undefined, reason: 'stopping', durationMs: 0, message };
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
