/**
 * At most one recycle at a time per master, each after a random delay
 * (jitter), so that workers that grow together (same code, same traffic) are
 * replaced one after the other, and the masters of a fleet, whose workers
 * also grow in step, do not all recycle in the same second.
 *
 * `admit(key, task)` queues a task (one per key: a worker already queued or
 * being recycled is not queued twice). Tasks run in arrival order; each
 * starts `random() * jitterMs` after the previous one settled (or after its
 * own admission when the gate is idle). A task that rejects does not stop the
 * gate. `cancel(key)` drops a task that has not started (its worker exited).
 *
 * Intended wiring: `onOverLimit(worker)` → `gate.admit(worker, async () => {
 * if the worker is gone or draining, return; await bringUp(replacement for
 * worker.slot); drain(worker) })`; on a worker's exit `gate.cancel(worker)`;
 * on stop `gate.close()`.
 */
import type { Clock } from '../../clock.js';

/** Default jitter: one memory sample interval. */
export const RECYCLE_JITTER_MS = 5_000;

export interface RecycleGateOptions {
  readonly clock: Clock;
  readonly jitterMs?: number;
  /** In [0, 1); injected for tests. */
  readonly random?: () => number;
  /** A task rejected (the gate goes on). */
  readonly onError?: (key: unknown, error: unknown) => void;
}

interface Queued<K> {
  readonly key: K;
  readonly task: () => Promise<void>;
}

export class RecycleGate<K> {
  readonly #clock: Clock;
  readonly #jitterMs: number;
  readonly #random: () => number;
  readonly #onError: RecycleGateOptions['onError'];
  readonly #queue: Array<Queued<K>> = [];
  #running: K | undefined;
  #busy = false;
  #cancelDelay: (() => void) | undefined;
  #closed = false;

  constructor(options: RecycleGateOptions) {
    this.#clock = options.clock;
    this.#jitterMs = options.jitterMs ?? RECYCLE_JITTER_MS;
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError;
  }

  /** The key whose task runs now. */
  get running(): K | undefined {
    return this.#running;
  }

  /** Keys waiting, in order (the one in its jitter delay first). */
  get queued(): readonly K[] {
    return this.#queue.map((q) => q.key);
  }

  /** Queue `task` for `key`; false if `key` is queued or running already, or the gate is closed. */
  admit(key: K, task: () => Promise<void>): boolean {
    if (this.#closed || this.#running === key || this.#queue.some((q) => q.key === key)) return false;
    this.#queue.push({ key, task });
    this.#next();
    return true;
  }

  /** Drop `key`'s task if it has not started; true if it was dropped. */
  cancel(key: K): boolean {
    const index = this.#queue.findIndex((q) => q.key === key);
    if (index < 0) return false;
    this.#queue.splice(index, 1);
    if (index === 0 && this.#cancelDelay) {
      // It was in its jitter delay: the next one gets its own.
      this.#cancelDelay();
      this.#cancelDelay = undefined;
      this.#busy = false;
      this.#next();
    }
    return true;
  }

  /** Drop every waiting task; the running one finishes. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#cancelDelay?.();
    this.#cancelDelay = undefined;
  }

  #next(): void {
    if (this.#busy || this.#queue.length === 0) return;
    this.#busy = true;
    const delay = Math.floor(this.#random() * this.#jitterMs);
    this.#cancelDelay = this.#clock.setTimeout(() => {
      this.#cancelDelay = undefined;
      const { key, task } = this.#queue.shift()!;
      this.#running = key;
      Promise.resolve()
        .then(task)
        .catch((error: unknown) => this.#onError?.(key, error))
        .finally(() => {
          this.#running = undefined;
          this.#busy = false;
          if (!this.#closed) this.#next();
        });
    }, delay);
  }
}
