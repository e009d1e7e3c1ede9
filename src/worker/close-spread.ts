/**
 * Spreads the moments a draining worker tells its connections to go, so that
 * thousands of clients do not reconnect to the new generation in the same
 * instant (the idea of HAProxy's `close-spread-time`).
 *
 * Each connection gets one moment, drawn uniformly in [drain start, drain
 * start + spread) the first time it is asked about, and keeps it. Uniform
 * random rather than evenly spaced: the workers of a generation draw
 * independently, and random draws add up to a uniform rate across them.
 * The spread is capped at half the drain deadline, so that every connection
 * has at least that half left to close before the master escalates.
 */
export interface WorkerDrainTimes {
  /** `--close-spread`: the window, in ms. */
  readonly closeSpreadMs: number;
  /** The drain deadline, in ms. */
  readonly drainTimeoutMs: number;
}

export class CloseSpread {
  readonly #windowMs: number;
  readonly #random: () => number;
  #due = new WeakMap<object, number>();
  #startedAt: number | undefined;

  constructor(times: WorkerDrainTimes, random: () => number = Math.random) {
    this.#windowMs = Math.max(0, Math.min(times.closeSpreadMs, Math.floor(times.drainTimeoutMs / 2)));
    this.#random = random;
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /** Mark the start of the drain. Idempotent. */
  start(now = Date.now()): void {
    this.#startedAt ??= now;
  }

  /** Forget the drain (a standby worker resumes): the next drain draws new moments. */
  reset(): void {
    this.#startedAt = undefined;
    this.#due = new WeakMap();
  }

  /** Ms from `now` until `connection`'s moment (0 once it has come). Starts the spread if the drain has not. */
  delay(connection: object, now = Date.now()): number {
    return Math.max(0, this.#dueAt(connection) - now);
  }

  /** Whether `connection`'s moment has come (never before the drain started). */
  due(connection: object, now = Date.now()): boolean {
    return this.#startedAt !== undefined && now >= this.#dueAt(connection);
  }

  #dueAt(connection: object): number {
    const start = (this.#startedAt ??= Date.now());
    let at = this.#due.get(connection);
    if (at === undefined) {
      at = start + Math.floor(this.#random() * this.#windowMs);
      this.#due.set(connection, at);
    }
    return at;
  }
}
