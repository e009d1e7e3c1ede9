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
import type { Clock } from '../clock.js';
import { credentialsBinder, foreignCredentials } from './sockets/bind-as.js';
import type { MasterContext } from './context.js';
import type { MasterStatus, SelfUpgradeOutcome } from '../ipc/control.js';
import type { MasterEvents, UpgradeResult } from './events.js';
import { type Generation, type Slot, createGeneration } from './generations/generation.js';
import { retire } from './generations/retire.js';
import { rollbackWindow } from './generations/rollback-window.js';
import { Listeners } from './sockets/listeners.js';
import type { MasterOptions } from './options/options.js';
import type { Outlets } from './output/outlet.js';
import { removePidFile } from './os/pid-file.js';
import { prepareStart } from './prepare-start.js';
import { announceReadyOnce } from './announce-ready.js';
import { fillSlot } from './generations/restart.js';
import { type LastUpgrade, UpgradeQueue } from './generations/queue.js';
import type { InheritedSocket } from './systemd/socket-activation.js';
import type { Spawner } from './spawn/spawner.js';
import { masterStatus } from './status.js';
import { runUpgrade } from './generations/run-upgrade.js';
import { followWorker } from './workers/follow.js';
import { Healer, type HealerOptions } from './health/healer.js';
import { WorkerHandle } from './workers/worker-handle.js';
import { workerSpec } from './spawn/worker-env.js';
import type { HoldBack } from './succession/hold-back.js';

export type MasterState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Starts a successor master and settles when it took over or failed (succession/replace-self.ts). */
export type SelfUpgrader = (request: { readonly node?: string }, signal: AbortSignal) => Promise<SelfUpgradeOutcome>;

export type { LastUpgrade } from './generations/queue.js';

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
  /** Self-healing seams (RSS reader, jitter, sample interval) for tests. */
  readonly health?: HealerOptions;
  /** This master is a successor (succession/): it goes on from its predecessor's numbers, and holds its first workers back. */
  readonly successor?: SuccessorSeams;
}

/** What a successor master starts from (succession/protocol.ts, SuccessionStart). */
export interface SuccessorSeams {
  /** The predecessor's generation in service; the first here is the next. */
  readonly generation: number;
  readonly workerSeq: number;
  /** Crash replacements per slot, counted on. */
  readonly restarts: readonly number[];
  readonly lastUpgrade: LastUpgrade | null;
  /** Where the first workers wait until the take-over. */
  readonly holdBack: HoldBack;
}

export class Master extends EventEmitter<MasterEvents> {
  readonly options: MasterOptions;
  readonly held: Listeners;
  readonly #deps: MasterDeps;
  readonly #context: MasterContext;
  readonly #stopController = new AbortController();
  readonly #workers = new Set<WorkerHandle>();
  readonly #announcedListeners = new Set<string>();
  #state: MasterState = 'created';
  #generationSeq = 0;
  #workerSeq = 0;
  #current: Generation | undefined;
  readonly #upgrades: UpgradeQueue;
  readonly #healer: Healer;
  #stopped: Promise<void> | undefined;
  readonly #announceReadyOnce: (generation: Generation) => void;
  /** Ends a running rollback window early (a new trigger). */
  #endWindow: (() => void) | undefined;
  #startedAt: number | undefined;
  /**
   * Self-upgrade (succession/): `replacing` while a successor is started
   * (this master goes on serving, and runs no upgrade), `replaced` once it
   * has taken over (this master drains and exits); `successor` in a
   * successor until it has taken over.
   */
  #succession: 'none' | 'replacing' | 'replaced' | 'successor' = 'none';
  #selfUpgrader: SelfUpgrader | undefined;
  /** Settles when a running self-upgrade has (its successor stopped, if it failed: a stop waits for it). */
  #replacing: Promise<void> | undefined;

  constructor(options: MasterOptions, deps: MasterDeps) {
    super();
    this.options = options;
    this.#deps = deps;
    const foreign = foreignCredentials(options.uid, options.gid);
    this.held = new Listeners(options.cwd, foreign && credentialsBinder(foreign));
    this.#context = {
      options,
      clock: deps.clock,
      stopSignal: this.#stopController.signal,
      running: () => this.#state === 'running',
      spawn: (generation, slot) => this.#spawn(generation, slot),
      emit: (event, ...args) => void (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
      held: () => this.held.all.map((l) => l.address),
      slotLive: (generation) => this.#announceReadyOnce(generation),
      respawned: (killed, signal, replacement) => this.emit('worker.respawned', { ...killed.facts, signal, replacementPid: replacement.pid }),
      holdBack: (workers) => {
        const gate = deps.successor?.holdBack;
        return gate && !gate.opened ? gate.wait(workers, this.#stopController.signal) : undefined;
      },
    };
    if (deps.successor) {
      this.#succession = 'successor';
      this.#generationSeq = deps.successor.generation;
      this.#workerSeq = deps.successor.workerSeq;
    }
    this.#announceReadyOnce = announceReadyOnce(this.held, this.#context.emit);
    this.#healer = new Healer(this.#context, deps.health);
    this.#upgrades = new UpgradeQueue({
      run: (trigger) => this.#upgradeOnce(trigger),
      coalesced: (trigger) => {
        this.emit('upgrade.coalesced', { trigger });
        this.#endWindow?.(); // a new upgrade starts from the new generation (docs/upgrade.md)
      },
      internalFailure: (result) => this.emit('upgrade.failed', result),
    }, deps.successor?.lastUpgrade ?? undefined);
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
    return this.#upgrades.busy;
  }

  /** The last worker id given. */
  get workerSeq(): number {
    return this.#workerSeq;
  }

  /** Crash replacements per slot of the generation in service. */
  get slotRestarts(): number[] {
    return this.#current?.slots.map((s) => s.restarts) ?? [];
  }

  /** The last RSS sampled for `worker` by `--max-memory`, in bytes. */
  sampledRss(worker: WorkerHandle): number | undefined {
    return this.#healer.rss(worker);
  }

  get lastUpgrade(): LastUpgrade | undefined {
    return this.#upgrades.last;
  }

  /** A snapshot for `overseer status`. */
  status(): MasterStatus {
    return masterStatus(this, this.#deps.clock.now());
  }

  /** Open connections worker `workerId` reported in its last heartbeat (upgrade progress); undefined if none or gone. */
  connectionsOf(workerId: number): number | undefined {
    for (const worker of this.#workers) if (worker.id === workerId) return worker.connections;
    return undefined;
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
    // Validated, bound, PID file written; or thrown with nothing left; or stopped meanwhile.
    const prepare = { ...this.#deps, options: this.options, held: this.held, deferPidFile: this.#deps.successor !== undefined };
    if (!(await prepareStart(prepare, () => this.#state !== 'starting'))) return;
    this.#state = 'running';
    for (const held of this.held.all) {
      if (!held.inherited) continue;
      const { fd, name, serves } = held.inherited;
      const from = this.#deps.successor && name === 'predecessor' ? 'predecessor' : 'systemd';
      this.emit('listener.inherited', { address: held.address, from, fd, fdName: name, ...(serves ? { serves } : {}) });
    }
    this.emit('master.started', { pid: this.#deps.pid, listeners: this.held.all.map((l) => l.address) });
    const generation = createGeneration(++this.#generationSeq, this.options);
    for (const slot of generation.slots) slot.restarts = this.#deps.successor?.restarts[slot.index] ?? 0;
    this.#current = generation;
    for (const slot of generation.slots) void fillSlot(this.#context, generation, slot);
  }

  /** Whether a successor took over from this master (it only drains its workers now). */
  get replaced(): boolean {
    return this.#succession === 'replaced';
  }

  /** A successor has taken over (its first workers accept): it may upgrade from now on. */
  tookOver(): void {
    if (this.#succession === 'successor') this.#succession = 'none';
  }

  /** Make `upgradeSelf` available: `replace` is the OS side (succession/replace-self.ts, wired by start.ts). */
  enableSelfUpgrade(replace: SelfUpgrader): void {
    this.#selfUpgrader = replace;
  }

  /**
   * `overseer upgrade --self`: the self-upgrader starts a successor and
   * resolves once it has taken over, or failed. Meanwhile upgrades are
   * refused (`busy`). On success this master drains its workers and stops,
   * leaving the sockets, the PID file and the control socket to the
   * successor. One at a time; refused during an upgrade.
   */
  async upgradeSelf(request: { readonly node?: string }): Promise<SelfUpgradeOutcome> {
    const replace = this.#selfUpgrader;
    if (!replace) return { ok: false, reason: 'not-running', message: 'this master cannot replace itself (it was not started by `overseer start`)', durationMs: 0 };
    if (this.#state !== 'running' || this.#succession === 'successor' || this.#succession === 'replaced') {
      const now = this.#succession === 'successor' ? 'taking over from its predecessor' : this.#succession === 'replaced' ? 'replaced by its successor' : this.#state;
      return { ok: false, reason: 'not-running', message: `the master is ${now}`, durationMs: 0 };
    }
    if (this.#succession !== 'none' || this.#upgrades.busy) {
      const what = this.#succession !== 'none' ? 'a self-upgrade' : 'an upgrade';
      return { ok: false, reason: 'busy', message: `${what} is running; try again once it is done`, durationMs: 0 };
    }
    this.#succession = 'replacing';
    const replacing = replace(request, this.#stopController.signal);
    this.#replacing = replacing.then(() => {});
    const outcome = await replacing;
    this.#replacing = undefined;
    if (!outcome.ok) {
      this.#succession = 'none';
      return outcome;
    }
    this.#succession = 'replaced';
    void this.#stop(`replaced by master ${outcome.pid}`, true, outcome.pid);
    return outcome;
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
    if (this.#succession !== 'none') {
      const message = this.#succession === 'successor'
        ? 'this master is taking over from its predecessor; upgrade again once it has'
        : this.#succession === 'replacing'
          ? 'a self-upgrade (overseer upgrade --self) is running; upgrade again once it is done'
          : 'this master has been replaced by its successor; upgrade through the successor';
      const result: UpgradeResult = { ok: false, generation: undefined, reason: 'busy', durationMs: 0, message };
      this.emit('upgrade.failed', result);
      return Promise.resolve(result);
    }
    return this.#upgrades.enqueue(trigger);
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

  /** `replacedBy`: a successor holds the sockets and the PID file now; they are left as they are. */
  #stop(reason: string, graceful: boolean, replacedBy?: number): Promise<void> {
    if (this.#stopped) return this.#stopped;
    const started = this.#deps.clock.now();
    this.#state = 'stopping';
    this.emit('master.stopping', { reason, graceful, ...(replacedBy === undefined ? {} : { replacedBy }) });
    this.#stopController.abort();
    this.#healer.close();
    this.#upgrades.cancelFollowUp(stoppingResult('master is stopping'));
    this.#stopped = (async () => {
      await this.#upgrades.idle();
      await this.#replacing; // a successor being started is stopped first (the stop aborted it)
      if (this.#current) retire(this.#context, this.#current, 'stop');
      await Promise.all([...this.#workers].map((w) => w.exited));
      // Closing a unix socket the master bound removes its file, which is the
      // successor's too: a replaced master leaves its sockets to the exit.
      if (replacedBy === undefined) this.held.closeAll();
      if (this.options.pidFile && replacedBy === undefined) removePidFile(this.options.pidFile, this.#deps.pid);
      this.#state = 'stopped';
      this.emit('master.stopped', { durationMs: Math.round(this.#deps.clock.now() - started) });
    })();
    return this.#stopped;
  }

  async #upgradeOnce(trigger: string): Promise<UpgradeResult> {
    const started = this.#deps.clock.now();
    const next = createGeneration(++this.#generationSeq, this.options);
    this.emit('upgrade.started', { generation: next.number, trigger });
    const result = await runUpgrade(this.#context, next, this.#current, started);
    if (!result.ok) {
      this.emit('upgrade.failed', result);
      return result;
    }
    // Every new worker accepts: only now is the old generation drained.
    const previous = this.#current;
    this.#current = next;
    for (const slot of next.slots) if (slot.worker) this.emit('worker.live', slot.worker.facts);
    const { phases } = result;
    this.emit('upgrade.succeeded', { generation: next.number, previous: previous?.number, pids: [...result.pids], durationMs: result.durationMs, ...(phases ? { phases } : {}) });
    // Reported on the side: the upgrade's outcome (and the next upgrade) does not wait for the drain.
    const reportCompleted = () => void this.#whenGone(previous).then(() => {
      const durationMs = Math.round(this.#deps.clock.now() - started);
      this.emit('upgrade.completed', { generation: next.number, previous: previous?.number, durationMs, ...(phases ? { phases } : {}) });
    });
    if (previous && this.options.rollbackWindowMs > 0) {
      this.#announceReadyOnce(next);
      const settled = await this.#window(next, previous, result);
      if (settled.ok) reportCompleted(); // a rollback is counted as such, not as a completed upgrade
      return settled;
    }
    if (previous) retire(this.#context, previous, 'upgrade');
    reportCompleted();
    this.#announceReadyOnce(next);
    return result;
  }

  /** Settles once every worker that served `generation` has exited (at once for none). */
  async #whenGone(generation: Generation | undefined): Promise<void> {
    const workers = [...this.#workers].filter((w) => w.generation === generation?.number);
    await Promise.all(workers.map((w) => w.exited));
  }

  /**
   * `--rollback-window`: the upgrade (and `overseer upgrade`) is settled when
   * the window ends: `ok` if the new generation stayed up, `rolled-back` if
   * the old one serves again. A trigger meanwhile ends the window (the old
   * generation drains) and upgrades from the new generation.
   */
  async #window(next: Generation, previous: Generation, result: UpgradeResult): Promise<UpgradeResult> {
    const started = this.#deps.clock.now();
    const end = new AbortController();
    this.#endWindow = () => end.abort();
    this.emit('upgrade.window', { generation: next.number, previous: previous.number, windowMs: this.options.rollbackWindowMs });
    const outcome = await rollbackWindow(this.#context, next, previous, { end: end.signal, events: this });
    this.#endWindow = undefined;
    if (!outcome.rolledBack) return result;
    this.#current = previous;
    const rolledBack = {
      ok: false as const, generation: next.number, reason: 'rolled-back' as const, message: outcome.message,
      durationMs: Math.round(result.durationMs + this.#deps.clock.now() - started),
    };
    this.emit('upgrade.rolled-back', { generation: next.number, current: previous.number, message: outcome.message });
    return rolledBack;
  }

  /** Start one worker from the script as it is on disk now, and follow it. */
  #spawn(generation: Generation, slot: Slot): WorkerHandle {
    const id = ++this.#workerSeq;
    const spec = workerSpec(this.options, { workerId: id, generation: generation.number }, this.held.all);
    const proc = this.#deps.spawner.spawn(spec);
    const worker = new WorkerHandle(proc, { id, generation: generation.number, slot: slot.index, restarts: slot.restarts }, {
      clock: this.#deps.clock,
      output: this.#deps.output,
      acquire: (address) => this.held.acquire(address),
    });
    slot.worker = worker;
    this.#workers.add(worker);
    followWorker(worker, generation, slot, {
      ctx: this.#context,
      announced: this.#announcedListeners,
      gone: (w) => this.#workers.delete(w),
      watch: (w, g, s) => this.#healer.follow(w, g, s),
    });
    this.emit('worker.spawned', { ...worker.facts, script: spec.script, cwd: spec.cwd });
    return worker;
  }
}

function stoppingResult(message: string): UpgradeResult {
  return { ok: false, generation: undefined, reason: 'stopping', durationMs: 0, message };
}
