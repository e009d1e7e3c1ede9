/**
 * Leak detection (`--max-memory`): every `sampleMs` the RSS of each watched
 * worker is read (rss.ts); a worker above the limit for `samplesOver`
 * samples in a row (2: one spike does not count) is reported once.
 *
 * Watched from live until it drains or exits, like the hang detector: a
 * starting worker is not serving yet, a draining one is leaving anyway.
 * Samples are read in parallel; a sweep still reading when the next is due
 * is not doubled (the next one is skipped).
 *
 * Intended wiring (master): on activation `memory.watch(worker, pid)`; on
 * drain start or exit `memory.forget(worker)`; `onOverLimit(worker, rss)` →
 * `gate.admit(worker, () => bringUp(replacement for worker.slot) → drain the
 * old worker as in an upgrade)` (recycle-gate.ts) → log `worker.recycled`
 * with reason `max-memory` and the RSS. `rss(worker)` feeds `overseer status`.
 */
import type { Clock } from '../../clock.js';
import type { ReadRss } from './rss.js';

/** Default sample interval: a leak grows over minutes; a read costs ~20 µs. */
export const MEMORY_SAMPLE_MS = 5_000;
/** Samples in a row above the limit before a worker is reported. */
export const SAMPLES_OVER = 2;

export interface MemoryWatchOptions<W> {
  /** Bytes; 0: off. */
  readonly limitBytes: number;
  readonly clock: Clock;
  readonly readRss: ReadRss;
  readonly onOverLimit: (worker: W, rssBytes: number) => void;
  readonly sampleMs?: number;
  readonly samplesOver?: number;
}

interface Watched {
  readonly pid: number;
  rss: number | undefined;
  over: number;
  reported: boolean;
}

export class MemoryWatch<W extends object> {
  readonly #options: MemoryWatchOptions<W>;
  readonly #sampleMs: number;
  readonly #samplesOver: number;
  readonly #watched = new Map<W, Watched>();
  #cancel: (() => void) | undefined;
  #sampling = false;

  constructor(options: MemoryWatchOptions<W>) {
    this.#options = options;
    this.#sampleMs = options.sampleMs ?? MEMORY_SAMPLE_MS;
    this.#samplesOver = Math.max(1, options.samplesOver ?? SAMPLES_OVER);
  }

  get enabled(): boolean {
    return this.#options.limitBytes > 0;
  }

  get limitBytes(): number {
    return this.#options.limitBytes;
  }

  /** Start sampling `worker` (process `pid`). Idempotent. */
  watch(worker: W, pid: number): void {
    if (!this.enabled || this.#watched.has(worker)) return;
    this.#watched.set(worker, { pid, rss: undefined, over: 0, reported: false });
    this.#schedule();
  }

  forget(worker: W): void {
    this.#watched.delete(worker);
    if (this.#watched.size === 0) this.#stop();
  }

  /** The last RSS sampled for `worker`, in bytes (for `overseer status`). */
  rss(worker: W): number | undefined {
    return this.#watched.get(worker)?.rss;
  }

  close(): void {
    this.#watched.clear();
    this.#stop();
  }

  #schedule(): void {
    this.#cancel ??= this.#options.clock.setTimeout(() => {
      this.#cancel = undefined;
      void this.#sample();
      if (this.#watched.size > 0) this.#schedule();
    }, this.#sampleMs);
  }

  #stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  async #sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const entries = [...this.#watched];
      const samples = await Promise.all(entries.map(([, w]) => this.#options.readRss(w.pid).catch(() => undefined)));
      entries.forEach(([worker, watched], i) => {
        if (this.#watched.get(worker) !== watched) return; // forgotten meanwhile
        const rss = samples[i];
        watched.rss = rss;
        watched.over = rss !== undefined && rss > this.#options.limitBytes ? watched.over + 1 : 0;
        if (watched.reported || watched.over < this.#samplesOver) return;
        watched.reported = true;
        this.#options.onOverLimit(worker, rss!);
      });
    } finally {
      this.#sampling = false;
    }
  }
}
