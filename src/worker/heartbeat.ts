/**
 * The worker's heartbeat: every `intervalMs`, from the main thread's event
 * loop, call `beat` (the runtime sends `heartbeat` to the master; the hang
 * watchdog, when on, counts it too). A blocked event loop runs no timer, so
 * the beats stop: that silence is what the master's hang detector sees.
 *
 * The timer is unref'd: the heartbeat never keeps a worker alive that would
 * otherwise exit. One message a second costs the master about 50 µs of CPU
 * per worker per second, wake-up included (docs/self-healing.md). Returns a
 * function that stops it.
 */
export function startHeartbeat(intervalMs: number, beat: () => void): () => void {
  if (!(intervalMs > 0)) return () => {};
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
