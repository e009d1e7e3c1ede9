/** The time seam: the master reads time and sets timers only through this. */
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
