/**
 * `--hang-stack`: where is a hung worker's event loop stuck? A blocked main
 * thread can tell nobody, so a watchdog thread (hang-stack-thread.ts), started
 * here, watches a counter the main thread bumps at every heartbeat. When the
 * counter has not moved for nearly the hang timeout (two polls less, so
 * that it is before the master's hang detector fires: the master kills the
 * worker once a replacement is live), the thread pauses the main thread through the
 * inspector (`Session.connectToMainThread()`: V8 interrupts running
 * JavaScript for it), reads its call frames and writes one line to the
 * worker's stderr (fd 2 directly: a worker thread's `process.stderr` goes
 * through the blocked main thread), which the master relays:
 *
 *   overseer: worker <pid> event loop blocked for <ms> ms at: fn (file:line:col) < caller (…) < …
 *
 * Cost (docs/self-healing.md): one V8 isolate per worker, about 9 MB of RSS,
 * hence opt-in. Best effort: a failure of the thread is ignored, never the app's.
 */
import { Worker } from 'node:worker_threads';

/** Returns the function the heartbeat calls to prove the main thread turns. */
export function startHangStack(hangTimeoutMs: number, pollMs: number): () => void {
  const beats = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  try {
    const thread = new Worker(new URL('./hang-stack-thread.js', import.meta.url), {
      // Two polls early: the thread notices a beat up to a poll late, and its
      // line must be out before the master, which may act at the timeout
      // itself, has replaced and killed the worker (a fast replacement is
      // live in a few hundred ms). Never earlier than half the timeout.
      workerData: { beats: beats.buffer, hangTimeoutMs: Math.max(hangTimeoutMs / 2, hangTimeoutMs - 2 * pollMs), pollMs },
      execArgv: [], // not the preload: the thread is ours, not an app's
      stdout: true, // the thread's console is not the app's output
      stderr: true,
    });
    thread.unref(); // never keeps the worker alive
    thread.on('error', () => {});
  } catch {
    // best effort: no watchdog
  }
  return () => void Atomics.add(beats, 0, 1);
}
