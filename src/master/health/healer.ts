/**
 * The self-healing wiring (docs/self-healing.md): the master's detectors
 * watch each live worker of a generation in service, and what they find is
 * acted on through generations/replace.ts (the one bring-up pipeline):
 * - hang-detector.ts: a live worker silent for `--hang-timeout` → `worker.hung`
 *   → a replacement for its slot → SIGKILL the hung worker once it is live;
 * - memory-watch.ts: a live worker above `--max-memory` for two samples →
 *   through the recycle gate (one at a time, with jitter) → a replacement →
 *   the old one drains as in an upgrade → `worker.recycled`.
 * A worker is watched from live until it drains or exits (for hangs, also
 * while it stands by for a rollback).
 */
import type { MasterContext } from '../context.js';
import type { Generation, Slot } from '../generations/generation.js';
import { replaceWorker } from '../generations/replace.js';
import type { WorkerHandle } from '../workers/worker-handle.js';
import { HangDetector } from './hang-detector.js';
import { MemoryWatch } from './memory-watch.js';
import { RecycleGate } from './recycle-gate.js';
import { type ReadRss, readRss } from './rss.js';

export interface HealerOptions {
  readonly readRss?: ReadRss;
  /** Recycle jitter bound (recycle-gate.ts); injected for tests. */
  readonly jitterMs?: number;
  readonly random?: () => number;
  /** Memory sample interval (memory-watch.ts); injected for tests. */
  readonly sampleMs?: number;
}

interface Place {
  readonly generation: Generation;
  readonly slot: Slot;
}

export class Healer {
  readonly #ctx: MasterContext;
  readonly #places = new Map<WorkerHandle, Place>();
  readonly #hang: HangDetector<WorkerHandle>;
  readonly #memory: MemoryWatch<WorkerHandle>;
  readonly #gate: RecycleGate<WorkerHandle>;

  constructor(ctx: MasterContext, options: HealerOptions = {}) {
    this.#ctx = ctx;
    this.#hang = new HangDetector({ hangTimeoutMs: ctx.options.hangTimeoutMs, clock: ctx.clock, onHung: (w, ms) => this.#onHung(w, ms) });
    this.#memory = new MemoryWatch({
      limitBytes: ctx.options.maxMemoryBytes,
      clock: ctx.clock,
      readRss: options.readRss ?? readRss,
      onOverLimit: (w, rss) => this.#onOverLimit(w, rss),
      ...(options.sampleMs === undefined ? {} : { sampleMs: options.sampleMs }),
    });
    this.#gate = new RecycleGate({
      clock: ctx.clock,
      ...(options.jitterMs === undefined ? {} : { jitterMs: options.jitterMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  /** The last RSS sampled for `worker` (bytes), when `--max-memory` is set. */
  rss(worker: WorkerHandle): number | undefined {
    return this.#memory.rss(worker);
  }

  /** Watch `worker` of `slot` from the moment it is live until it drains or exits. */
  follow(worker: WorkerHandle, generation: Generation, slot: Slot): void {
    if (!this.#hang.enabled && !this.#memory.enabled) return;
    worker.on('state', (_from, to) => {
      if (to === 'live') {
        this.#places.set(worker, { generation, slot });
        this.#hang.watch(worker);
        if (worker.pid !== undefined) this.#memory.watch(worker, worker.pid);
      } else if (to === 'standby') {
        // Still watched for hangs: a hung standby worker is killed (its generation is
        // retired, so no replacement), and a rollback refills its slot instead of resuming it.
        this.#memory.forget(worker);
        this.#gate.cancel(worker);
      } else {
        this.#places.delete(worker);
        this.#hang.forget(worker);
        this.#memory.forget(worker);
        if (to === 'exited') this.#gate.cancel(worker);
      }
    });
    worker.on('heartbeat', () => this.#hang.beat(worker));
  }

  /** The master stops: no more detection, no recycle not yet started. */
  close(): void {
    this.#hang.close();
    this.#memory.close();
    this.#gate.close();
  }

  #onHung(worker: WorkerHandle, silentMs: number): void {
    const place = this.#places.get(worker);
    this.#ctx.emit('worker.hung', { ...worker.facts, reason: 'hang', silentMs: Math.round(silentMs) });
    if (!place) return;
    // A hung worker that leaves no replacement behind is still killed (replace.ts).
    void replaceWorker(this.#ctx, place.generation, place.slot, worker, 'kill').then((replaced) => {
      if (!replaced) worker.kill('SIGKILL');
    });
  }

  #onOverLimit(worker: WorkerHandle, rssBytes: number): void {
    const limitBytes = this.#memory.limitBytes;
    this.#gate.admit(worker, async () => {
      const place = this.#places.get(worker);
      if (!place || worker.state !== 'live') return; // drained or gone meanwhile
      this.#ctx.emit('worker.recycling', { ...worker.facts, reason: 'memory', rssBytes, limitBytes });
      const replaced = await replaceWorker(this.#ctx, place.generation, place.slot, worker, 'drain');
      if (replaced) {
        this.#ctx.emit('worker.recycled', { ...worker.facts, reason: 'memory', rssBytes, limitBytes });
      } else if (worker.state === 'live' && worker.pid !== undefined) {
        // No replacement: it serves on, and is measured afresh (reported again if still over).
        this.#memory.forget(worker);
        this.#memory.watch(worker, worker.pid);
      }
    });
  }
}
