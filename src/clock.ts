/**
 * The time seam: the master (and the IPC channel on both sides) read time and
 * set timers only through this, so unit tests drive time by hand.
 */
export interface Clock {
  now(): number;
  /** Returns a cancel function. Timers do not keep the process alive. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
