/**
 * Crash backoff for one worker slot: base, 2×base, 4×base … up to max. A worker
 * that stayed live for `resetAfterMs` clears the count, so a rare crash after
 * days of uptime is replaced at once while a crash loop slows down.
 */
export class Backoff {
  #failures = 0;
  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly resetAfterMs: number,
  ) {}

  /** Record a failure after `uptimeMs` of service; returns the delay before the next try. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.resetAfterMs) this.#failures = 0;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.#failures);
    this.#failures++;
    return delay;
  }

  get failures(): number {
    return this.#failures;
  }
}
