/**
 * The Master: holds the listening sockets and owns the worker generations.
 *
 * Upgrade contract (docs/upgrade.md):
 * - one upgrade at a time; triggers during an upgrade coalesce into a single
 *   follow-up, so the last deployed version wins;
 * - the new generation is raced in await-ready.ts; only when every new worker
 *   is ready AND has confirmed it accepts is the old generation told to drain,
 *   so no connection ever meets a closed listener;
 * - a new generation that fails is killed (it has accepted nothing) and the
 *   old one keeps serving.
 * Crash contract: a live worker of the current generation that exits is
 * replaced in its slot, with backoff (backoff.ts).
 */
import { EventEmitter } from 'node:events';
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { ConfigError, type UpgradeFailureReason } from '../errors.js';
import { ENV } from '../ipc/env.js';
import { type ReadyOutcome, awaitReady } from './await-ready.js';
import { Backoff } from './backoff.js';
import type { Clock } from './clock.js';
import type { MasterEvents, UpgradeResult, WorkerFacts } from './events.js';
import { Listeners } from './listeners.js';
import type { MasterOptions } from './options.js';
import { removePidFile, writePidFile } from './pid-file.js';
import type { Spawner } from './spawner.js';
import { WorkerHandle } from './worker-handle.js';

export type MasterState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface MasterDeps {
  readonly spawner: Spawner;
  readonly clock: Clock;
  readonly stderr: Writable;
  readonly pid: number;
}

/** How long a ready worker has to confirm it accepts. */
const ACTIVATE_TIMEOUT_MS = 5_000;

interface Slot {
  readonly index: number;
  readonly backoff: Backoff;
  worker: WorkerHandle | undefined;
  cancelRestart: (() => void) | undefined;
}

interface Generation {
  readonly number: number;
  readonly slots: Slot[];
  retired: boolean;
}

export class Master extends EventEmitter<MasterEvents> {
  readonly options: MasterOptions;
  readonly sockets: Listeners;
  readonly #deps: MasterDeps;
  #state: MasterState = 'created';
  #generationSeq = 0;
  #workerSeq = 0;
  #current: Generation | undefined;
  readonly #workers = new Set<WorkerHandle>();
  readonly #stopController = new AbortController();
  /** The upgrade running now, if any. */
  #running: Promise<UpgradeResult> | undefined;
  #followUp: { trigger: string; resolve: (result: UpgradeResult) => void; promise: Promise<UpgradeResult> } | undefined;
  #stopped: Promise<void> | undefined;
  #announcedReady = false;

  constructor(options: MasterOptions, deps: MasterDeps) {
    super();
    this.options = options;
    this.#deps = deps;
    this.sockets = new Listeners(options.cwd);
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

  /**
   * Bind every `--listen` address, write the PID file, start the first
   * generation. Throws (leaving nothing bound or written) if any step fails;
   * the first generation's own failures are retried with backoff instead.
   */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new Error(`start() called in state ${this.#state}`);
    this.#state = 'starting';
    const script = resolve(this.options.cwd, this.options.script);
    if (!existsSync(script)) throw new ConfigError(`script not found: ${this.options.script} (looked for ${script})`);
    await this.sockets.bindConfigured(this.options.listen);
    try {
      if (this.options.pidFile) writePidFile(this.options.pidFile, this.#deps.pid);
    } catch (error) {
      this.sockets.closeAll();
      throw error;
    }
    this.#state = 'running';
    this.emit('master.started', {
      pid: this.#deps.pid,
      listeners: this.sockets.all.map((l) => l.address),
    });
    const generation = this.#newGeneration();
    this.#current = generation;
    for (const slot of generation.slots) void this.#fillSlot(generation, slot);
  }

  /**
   * Start a new generation and, once all of it is ready, drain the old one.
   * Resolves with the outcome of this upgrade or of the follow-up it was
   * coalesced into; never rejects.
   */
  upgrade(trigger: string): Promise<UpgradeResult> {
    if (this.#state !== 'running') {
      return Promise.resolve({
        ok: false, generation: undefined, reason: 'stopping', durationMs: 0,
        message: `cannot upgrade while ${this.#state}`,
      });
    }
    if (!this.#running) return this.#startRun(trigger);
    this.emit('upgrade.coalesced', { trigger });
    if (this.#followUp) {
      this.#followUp.trigger = trigger;
      return this.#followUp.promise;
    }
    let resolveFollowUp!: (result: UpgradeResult) => void;
    const promise = new Promise<UpgradeResult>((r) => (resolveFollowUp = r));
    this.#followUp = { trigger, resolve: resolveFollowUp, promise };
    return promise;
  }

  /**
   * Graceful stop: abort a running upgrade, drain every live worker, wait for
   * every worker to exit, release the sockets and the PID file. Idempotent.
   */
  stop(reason = 'stop'): Promise<void> {
    if (this.#stopped) return this.#stopped;
    const started = this.#deps.clock.now();
    this.#state = 'stopping';
    this.emit('master.stopping', { reason, graceful: true });
    this.#stopController.abort();
    this.#stopped = (async () => {
      const pending = this.#followUp;
      this.#followUp = undefined;
      pending?.resolve({ ok: false, generation: undefined, reason: 'stopping', durationMs: 0, message: 'master is stopping' });
      while (this.#running) await this.#running;
      if (this.#current) this.#retire(this.#current, 'stop');
      await Promise.all([...this.#workers].map((w) => w.exited));
      this.sockets.closeAll();
      if (this.options.pidFile) removePidFile(this.options.pidFile, this.#deps.pid);
      this.#state = 'stopped';
      this.emit('master.stopped', { durationMs: Math.round(this.#deps.clock.now() - started) });
    })();
    return this.#stopped;
  }

  /** Stop at once: SIGKILL every worker, then finish as `stop()` does. */
  kill(reason = 'kill'): Promise<void> {
    this.emit('master.stopping', { reason, graceful: false });
    const stopping = this.stop(reason);
    for (const worker of this.#workers) worker.kill('SIGKILL');
    return stopping;
  }

  /**
   * Run one upgrade; when it settles, start the coalesced follow-up if there
   * is one. Both happen synchronously in the settle callback, before any
   * caller's continuation runs, so an `upgrade()` called right after another
   * resolved starts a fresh run rather than joining a finished one.
   */
  #startRun(trigger: string): Promise<UpgradeResult> {
    const run = this.#runUpgrade(trigger).then((result) => {
      const next = this.#followUp;
      this.#followUp = undefined;
      if (next) void this.#startRun(next.trigger).then(next.resolve);
      else this.#running = undefined;
      return result;
    });
    this.#running = run;
    return run;
  }

  #newGeneration(): Generation {
    const { workers, restartDelayMs, restartDelayMaxMs, restartResetMs } = this.options;
    return {
      number: ++this.#generationSeq,
      retired: false,
      slots: Array.from({ length: workers }, (_, index) => ({
        index,
        backoff: new Backoff(restartDelayMs, restartDelayMaxMs, restartResetMs),
        worker: undefined,
        cancelRestart: undefined,
      })),
    };
  }

  #facts(worker: WorkerHandle): WorkerFacts {
    return { workerId: worker.id, generation: worker.generation, slot: worker.slot, pid: worker.pid };
  }

  /** Fork one worker from the script as it is on disk now. */
  #spawn(generation: Generation, slot: Slot): WorkerHandle {
    const o = this.options;
    // Re-resolved at every spawn: a deploy that swaps `current -> releases/N`
    // is picked up by the next generation.
    const cwd = safeRealpath(o.cwd);
    const script = safeRealpath(resolve(o.cwd, o.script));
    const tcp = this.sockets.all.filter((l) => l.address.kind === 'tcp');
    const id = ++this.#workerSeq;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [ENV.workerId]: String(id),
      [ENV.generation]: String(generation.number),
      [ENV.waitReady]: o.waitReady ? '1' : '0',
      [ENV.drainTimeout]: String(o.drainTimeoutMs),
      [ENV.name]: o.name,
      ...(tcp.length === 1 && tcp[0]!.address.kind === 'tcp' ? { PORT: String(tcp[0]!.address.port) } : {}),
    };
    const proc = this.#deps.spawner.spawn({ script, args: o.scriptArgs, cwd, env, nodeArgs: o.nodeArgs });
    const worker = new WorkerHandle(proc, { id, generation: generation.number, slot: slot.index }, {
      clock: this.#deps.clock,
      stderr: this.#deps.stderr,
      acquire: (address) => this.sockets.acquire(address),
    });
    slot.worker = worker;
    this.#workers.add(worker);
    const facts = this.#facts(worker);
    this.emit('worker.spawned', { ...facts, script, cwd });
    worker.on('ready', () => this.emit('worker.ready', { ...facts, startupMs: Math.round((worker.readyAt ?? 0) - worker.spawnedAt) }));
    worker.on('listen', (held) => {
      if (!held.configured && !this.#announcedListener.has(held.key)) {
        this.#announcedListener.add(held.key);
        this.emit('listener.bound', { ...facts, address: held.address });
      }
    });
    worker.on('message', (kind, value) => this.emit('worker.message', { ...facts, kind, value }));
    worker.on('exit', (info) => {
      this.#workers.delete(worker);
      const expected = info.state !== 'live' || generation.retired || this.#state !== 'running';
      const since = worker.liveAt ?? worker.spawnedAt;
      this.emit('worker.exited', {
        ...facts, code: info.code, signal: info.signal, state: info.state, expected,
        uptimeMs: Math.round(this.#deps.clock.now() - since),
      });
      if (info.state === 'draining') {
        this.emit('drain.finished', {
          ...facts, durationMs: Math.round(this.#deps.clock.now() - (worker.drainStartedAt ?? since)),
          forced: info.forced, code: info.code, signal: info.signal,
        });
      }
      if (info.state === 'live' && !expected && slot.worker === worker) {
        this.#scheduleRestart(generation, slot, this.#deps.clock.now() - since);
      }
    });
    return worker;
  }

  readonly #announcedListener = new Set<string>();

  #scheduleRestart(generation: Generation, slot: Slot, uptimeMs: number): void {
    const delayMs = slot.backoff.next(uptimeMs);
    this.emit('worker.restart-scheduled', { generation: generation.number, slot: slot.index, delayMs, failures: slot.backoff.failures });
    slot.cancelRestart = this.#deps.clock.setTimeout(() => {
      slot.cancelRestart = undefined;
      void this.#fillSlot(generation, slot);
    }, delayMs);
  }

  /** Start a worker in a slot of a live generation (first start or crash replacement). */
  async #fillSlot(generation: Generation, slot: Slot): Promise<void> {
    if (generation.retired || this.#state !== 'running') return;
    const worker = this.#spawn(generation, slot);
    const outcome = await awaitReady([worker], {
      timeoutMs: this.options.readyTimeoutMs, clock: this.#deps.clock, signal: this.#stopController.signal,
    });
    if (generation.retired || this.#state !== 'running') {
      worker.kill('SIGKILL');
      return;
    }
    let failure: { reason: string; code?: number | null; signal?: string | null } | undefined;
    if (!outcome.ok) failure = describe(outcome);
    else {
      try {
        await worker.activate(ACTIVATE_TIMEOUT_MS);
      } catch (error) {
        failure = { reason: `activate-failed: ${(error as Error).message}` };
      }
    }
    if (failure) {
      worker.kill('SIGKILL');
      this.emit('worker.start-failed', { ...this.#facts(worker), ...failure });
      await worker.exited;
      if (!generation.retired && this.#state === 'running') this.#scheduleRestart(generation, slot, 0);
      return;
    }
    this.emit('worker.live', this.#facts(worker));
    this.#announceReadyOnce(generation);
  }

  #announceReadyOnce(generation: Generation): void {
    if (this.#announcedReady || !generation.slots.every((s) => s.worker?.state === 'live')) return;
    this.#announcedReady = true;
    for (const held of this.sockets.all) {
      if (held.configured && !generation.slots.some((s) => s.worker?.listenerKeys.has(held.key))) {
        this.emit('listener.unused', { address: held.address });
      }
    }
    this.emit('master.ready', { generation: generation.number, pids: generation.slots.map((s) => s.worker?.pid) });
  }

  async #runUpgrade(trigger: string): Promise<UpgradeResult> {
    const started = this.#deps.clock.now();
    const elapsed = () => Math.round(this.#deps.clock.now() - started);
    const generation = this.#newGeneration();
    this.emit('upgrade.started', { generation: generation.number, trigger });
    const workers = generation.slots.map((slot) => this.#spawn(generation, slot));

    const fail = async (reason: UpgradeFailureReason, message: string, extra: Partial<Extract<UpgradeResult, { ok: false }>> = {}) => {
      generation.retired = true;
      for (const worker of workers) worker.kill('SIGKILL'); // none of them has accepted a connection
      await Promise.all(workers.map((w) => w.exited));
      const result: UpgradeResult = { ok: false, generation: generation.number, reason, message, durationMs: elapsed(), ...extra };
      this.emit('upgrade.failed', result);
      return result;
    };

    const outcome = await awaitReady(workers, {
      timeoutMs: this.options.readyTimeoutMs, clock: this.#deps.clock, signal: this.#stopController.signal,
    });
    if (!outcome.ok) {
      const d = describe(outcome);
      const stderr = outcome.reason === 'stopping' ? undefined : [...outcome.worker.stderrTail];
      return fail(outcome.reason, d.reason, { code: d.code, signal: d.signal, ...(stderr ? { stderr } : {}) });
    }

    // The new version must serve everything the old one serves, or traffic
    // to a forgotten address would queue with nobody accepting it.
    const serving = new Set(this.#current?.slots.flatMap((s) => (s.worker?.state === 'live' ? [...s.worker.listenerKeys] : [])));
    for (const worker of workers) {
      const missing = [...serving].filter((key) => !worker.listenerKeys.has(key));
      if (missing.length > 0) return fail('missing-listeners', `new worker ${worker.pid} does not listen on ${missing.join(', ')}`);
    }

    try {
      await Promise.all(workers.map((w) => w.activate(ACTIVATE_TIMEOUT_MS)));
    } catch (error) {
      return fail('activate-failed', (error as Error).message);
    }

    // Only now, with every new worker accepting, is the old generation drained.
    const previous = this.#current;
    this.#current = generation;
    for (const worker of workers) this.emit('worker.live', this.#facts(worker));
    const pids = workers.map((w) => w.pid);
    this.emit('upgrade.succeeded', { generation: generation.number, previous: previous?.number, pids, durationMs: elapsed() });
    if (previous) this.#retire(previous, 'upgrade');
    this.#announceReadyOnce(generation);
    return { ok: true, generation: generation.number, pids, durationMs: elapsed() };
  }

  /** Take a generation out of service: no more restarts; live workers drain, others are killed. */
  #retire(generation: Generation, reason: 'upgrade' | 'stop'): void {
    generation.retired = true;
    for (const slot of generation.slots) {
      slot.cancelRestart?.();
      slot.cancelRestart = undefined;
      const worker = slot.worker;
      if (!worker || worker.state === 'exited' || worker.state === 'draining') continue;
      if (worker.state === 'live') this.emit('drain.started', { ...this.#facts(worker), reason });
      worker.drain(reason, this.options.drainTimeoutMs, this.options.killTimeoutMs);
    }
  }
}

function describe(outcome: Exclude<ReadyOutcome, { ok: true }>): { reason: string; code?: number | null; signal?: string | null } {
  switch (outcome.reason) {
    case 'exited-before-ready': {
      const how = outcome.exit.signal ? `signal ${outcome.exit.signal}` : `code ${outcome.exit.code}`;
      return { reason: `worker ${outcome.worker.pid} exited before ready (${how})`, code: outcome.exit.code, signal: outcome.exit.signal };
    }
    case 'ready-timeout':
      return { reason: `worker ${outcome.worker.pid} was not ready in time` };
    case 'stopping':
      return { reason: 'master is stopping' };
  }
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
