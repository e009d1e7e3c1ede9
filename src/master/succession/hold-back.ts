/**
 * A successor master's first generation is brought up held back: each worker
 * that is ready (and listens on what it must) waits here, accepting nothing,
 * until the successor takes over from its predecessor (protocol.ts). While
 * it waits, the predecessor's workers alone accept, and a successor that
 * fails can be stopped without having taken a single connection.
 *
 * Contract: `wait()` resolves when the gate opens or the stop signal fires,
 * whichever is first (bring-up.ts then asks whether the worker is still
 * wanted). `allHeld` is called once, when `want` distinct workers that are
 * still alive wait at the same time. After `open()`, `wait()` resolves at
 * once: only the first workers of a successor are ever held.
 */
import type { WorkerHandle } from '../workers/worker-handle.js';

export class HoldBack {
  readonly #want: number;
  readonly #allHeld: () => void;
  readonly #waiting = new Set<WorkerHandle>();
  #announced = false;
  #opened = false;
  readonly #openers = new Set<() => void>();

  constructor(want: number, allHeld: () => void) {
    this.#want = want;
    this.#allHeld = allHeld;
  }

  get opened(): boolean {
    return this.#opened;
  }

  wait(workers: readonly WorkerHandle[], signal: AbortSignal): Promise<void> {
    if (this.#opened || signal.aborted) return Promise.resolve();
    for (const worker of workers) {
      this.#waiting.add(worker);
      void worker.exited.then(() => this.#waiting.delete(worker));
    }
    if (!this.#announced && this.#waiting.size >= this.#want) {
      this.#announced = true;
      this.#allHeld();
    }
    return new Promise((resolve) => {
      const done = () => {
        this.#openers.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#openers.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  open(): void {
    this.#opened = true;
    this.#waiting.clear();
    for (const open of [...this.#openers]) open();
  }
}
