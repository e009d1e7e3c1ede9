/**
 * `overseer/worker`: the API for apps that opt in. Every function is safe to
 * call when the app runs without overseer (it then does nothing), so the same
 * code runs under `node app.js` in development.
 *
 * ```js
 * import { ready, onShutdown, generation } from 'overseer/worker';
 * server.listen(process.env.PORT, () => ready());
 * onShutdown(async ({ idle }) => { closeWebSockets(); await idle; await db.end(); });
 * ```
 */
import type { ShutdownHook, WorkerRuntime } from './runtime.js';
import { RUNTIME_KEY } from './runtime-key.js';

export type { ShutdownContext, ShutdownHook } from './runtime.js';

function runtime(): WorkerRuntime | undefined {
  return (globalThis as Record<symbol, unknown>)[RUNTIME_KEY] as WorkerRuntime | undefined;
}

/** True when this process is an overseer worker. */
export const supervised: boolean = runtime() !== undefined;
/** This worker's generation (1 for the first, +1 per upgrade); 0 when not supervised. */
export const generation: number = runtime()?.info.generation ?? 0;
/** This worker's id, unique for the master's lifetime; 0 when not supervised. */
export const workerId: number = runtime()?.info.workerId ?? 0;

/**
 * Tell the master this worker is ready (needed with `--wait-ready`). Ready is
 * reported once every pending `listen()` has been set up.
 */
export function ready(): void {
  runtime()?.appReady();
}

/**
 * Run `hook` when this worker starts draining: it has stopped accepting, and
 * in-flight requests are still running. End long-lived connections overseer
 * cannot end in-band (SSE streams, raw `net` protocols; WebSockets are closed
 * with 1001 unless `--no-websocket-close`) and stop background work here; await `context.idle` before
 * closing what requests still use (a database pool). The worker exits once
 * every hook has settled and every connection has ended.
 */
export function onShutdown(hook: ShutdownHook): void {
  runtime()?.onShutdown(hook);
}
