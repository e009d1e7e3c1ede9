/**
 * The watchdog thread of hang-stack.ts (read its comment first). Runs in a
 * worker thread, never in the app's main thread.
 *
 * Counts from its own start: a main thread stuck before its first beat (a
 * boot that blocks, or a hang right after activation, before this thread is
 * up) is reported too; the master acts only on live workers (a boot is
 * covered by the ready timeout), but the stack still explains a slow boot.
 * Reports once per hang; a hang that ends re-arms it. A main thread blocked outside JavaScript (a synchronous system
 * call, `Atomics.wait`) cannot be interrupted: the line then says so.
 */
import { Session } from 'node:inspector';
import { workerData } from 'node:worker_threads';

const { writeSync } = process.getBuiltinModule('node:fs');

interface WatchData {
  readonly beats: SharedArrayBuffer;
  readonly hangTimeoutMs: number;
  readonly pollMs: number;
}

const MAX_FRAMES = 12;
const MAX_LINE = 4_000;
/** How long the pause may take before the main thread is taken as blocked outside JavaScript. */
const PAUSE_TIMEOUT_MS = 1_000;

const { beats, hangTimeoutMs, pollMs } = workerData as WatchData;
const counter = new Int32Array(beats);
let last = Atomics.load(counter, 0);
let since = Date.now();
let reported = false;

// Ref'd: this timer is what keeps the thread alive; the Worker object is unref'd in the main thread.
setInterval(() => {
  const now = Date.now();
  const value = Atomics.load(counter, 0);
  if (value !== last) {
    last = value;
    since = now;
    reported = false;
    return;
  }
  if (reported || now - since < hangTimeoutMs) return;
  reported = true;
  report(value, since);
}, pollMs);

function report(value: number, since: number): void {
  const session = new Session();
  const write = (where: string) => {
    const line = `overseer: worker ${process.pid} event loop blocked for ${Date.now() - since} ms at: ${where}`;
    writeSync(2, `${line.slice(0, MAX_LINE)}\n`);
  };
  try {
    session.connectToMainThread();
  } catch {
    return write('(no stack: the inspector is not available)');
  }
  const urls = new Map<string, string>();
  session.on('Debugger.scriptParsed', ({ params }) => urls.set(params.scriptId, params.url));
  const timeout = setTimeout(() => {
    write('(no JavaScript stack: blocked outside JavaScript, e.g. in a synchronous system call)');
    session.disconnect();
  }, PAUSE_TIMEOUT_MS);
  session.once('Debugger.paused', ({ params }) => {
    clearTimeout(timeout);
    // Unblocked meanwhile: the pause landed wherever the loop was by then, not where it was stuck.
    if (Atomics.load(counter, 0) === value) {
      write(params.callFrames.slice(0, MAX_FRAMES).map((f) => {
        const url = f.url || urls.get(f.location.scriptId) || '?';
        return `${f.functionName || '<anonymous>'} (${url}:${f.location.lineNumber + 1}:${(f.location.columnNumber ?? 0) + 1})`;
      }).join(' < '));
    }
    session.post('Debugger.resume', () => session.post('Debugger.disable', () => session.disconnect()));
  });
  session.post('Debugger.enable', () => session.post('Debugger.pause'));
}
