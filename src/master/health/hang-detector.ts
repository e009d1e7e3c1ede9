/**
 * Hang detection (`--hang-timeout`): a worker whose heartbeats (its main
 * thread's event loop turning, src/worker/heartbeat.ts) stop for
 * `hangTimeoutMs` is reported hung, once.
 *
 * Which workers are watched, and why only those (docs/self-healing.md):
 * - from live (activated) until it drains or exits. A worker still starting
 *   or ready-but-not-live is covered by `--ready-timeout` (it fails the
 *   start and accepted nothing). A draining worker already has its
 *   replacement, and its drain deadline (`--drain-timeout` + `--kill-timeout`)
 *   ends it: detecting its hang would only kill it sooner, for no request
 *   saved (its accepted requests cannot finish either way);
 * - a standby worker (`--rollback-window`) should be watched too: a hung
 *   standby worker must not be resumed by a rollback.
 * `--exec` workers send no heartbeat: never watch them.
 *
 * Time: one sweep per heartbeat interval (`heartbeatIntervalMs`, at most 1 s),
 * so a hang is reported between `hangTimeoutMs` and `hangTimeoutMs` + 1 s
 * after the last beat. A beat from a worker already reported calls
 * `onRecovered` (the wiring may then drain it instead of killing it).
 *
 * Intended wiring (master): on activation `detector.watch(worker)`; on the
 * handle's 'heartbeat' event `detector.beat(worker)`; on drain start or exit
 * `detector.forget(worker)`; `onHung(worker, silentMs)` → log `worker.hung`
 * (pid, generation, silentMs) → `bringUp(replacement for worker.slot)` → once
 * it is live, SIGKILL the hung worker (a blocked loop cannot drain).
 */
import { heartbeatIntervalMs } from '../../ipc/env.js';
import type { Clock } from '../../clock.js';

export interface HangDetectorOptions<W> {
  /** 0: detection off (nothing is ever reported, no timer runs). */
  readonly hangTimeoutMs: number;
  readonly clock: Clock;
  readonly onHung: (worker: W, silentMs: number) => void;
  readonly onRecovered?: (worker: W, silentMs: number) => void;
}

interface Watched {
  lastBeat: number;
  hung: boolean;
}

export class HangDetector<W extends object> {
  readonly #options: HangDetectorOptions<W>;
  readonly #sweepMs: number;
  readonly #watched = new Map<W, Watched>();
  #cancelSweep: (() => void) | undefined;

  constructor(options: HangDetectorOptions<W>) {
    this.#options = options;
    this.#sweepMs = heartbeatIntervalMs(options.hangTimeoutMs);
  }

  get enabled(): boolean {
    return this.#options.hangTimeoutMs > 0;
  }

  /** Workers watched now. */
  get size(): number {
    return this.#watched.size;
  }

  /** Start watching `worker`, counting silence from now. Idempotent. */
  watch(worker: W): void {
    if (!this.enabled || this.#watched.has(worker)) return;
    this.#watched.set(worker, { lastBeat: this.#options.clock.now(), hung: false });
    this.#schedule();
  }

  /** A heartbeat from `worker`; ignored unless it is watched. */
  beat(worker: W): void {
    const watched = this.#watched.get(worker);
    if (!watched) return;
    const now = this.#options.clock.now();
    if (watched.hung) {
      watched.hung = false;
      this.#options.onRecovered?.(worker, now - watched.lastBeat);
    }
    watched.lastBeat = now;
  }

  /** Stop watching `worker` (it drains or exited). */
  forget(worker: W): void {
    this.#watched.delete(worker);
    if (this.#watched.size === 0) this.#stop();
  }

  /** Silence of a watched worker so far, in ms (for status). */
  silentMs(worker: W): number | undefined {
    const watched = this.#watched.get(worker);
    return watched && this.#options.clock.now() - watched.lastBeat;
  }

  /** Stop everything (the master stops). */
  close(): void {
    this.#watched.clear();
    this.#stop();
  }

  #schedule(): void {
    this.#cancelSweep ??= this.#options.clock.setTimeout(() => {
      this.#cancelSweep = undefined;
      this.#sweep();
      if (this.#watched.size > 0) this.#schedule();
    }, this.#sweepMs);
  }

  #stop(): void {
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
  }

  #sweep(): void {
    const now = this.#options.clock.now();
    for (const [worker, watched] of [...this.#watched]) {
      const silentMs = now - watched.lastBeat;
      if (watched.hung || silentMs < this.#options.hangTimeoutMs) continue;
      watched.hung = true;
      this.#options.onHung(worker, silentMs);
    }
  }
}
