/**
 * The one place where a starting generation's outcomes are raced: every
 * worker ready, a worker exited before ready, the ready timeout, or a stop.
 * The first outcome wins; every listener and timer is removed after it.
 */
import type { Clock } from '../../clock.js';
import type { ExitInfo, WorkerHandle } from '../workers/worker-handle.js';

export type ReadyOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'exited-before-ready'; readonly worker: WorkerHandle; readonly exit: ExitInfo }
  | { readonly ok: false; readonly reason: 'ready-timeout'; readonly worker: WorkerHandle }
  | { readonly ok: false; readonly reason: 'stopping' };

export function awaitReady(
  workers: readonly WorkerHandle[],
  options: { readonly timeoutMs: number; readonly clock: Clock; readonly signal: AbortSignal },
): Promise<ReadyOutcome> {
  return new Promise((resolve) => {
    const cleanups: Array<() => void> = [];
    let settled = false;
    const finish = (outcome: ReadyOutcome) => {
      if (settled) return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      resolve(outcome);
    };
    const check = () => {
      if (workers.every((w) => w.state === 'ready' || w.state === 'live')) finish({ ok: true });
    };

    if (options.signal.aborted) return finish({ ok: false, reason: 'stopping' });
    const onAbort = () => finish({ ok: false, reason: 'stopping' });
    options.signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => options.signal.removeEventListener('abort', onAbort));

    cleanups.push(
      options.clock.setTimeout(() => {
        const late = workers.find((w) => w.state === 'starting') ?? workers[0]!;
        finish({ ok: false, reason: 'ready-timeout', worker: late });
      }, options.timeoutMs),
    );

    for (const worker of workers) {
      const onExit = (exit: ExitInfo) => finish({ ok: false, reason: 'exited-before-ready', worker, exit });
      worker.on('ready', check);
      worker.on('exit', onExit);
      cleanups.push(() => {
        worker.off('ready', check);
        worker.off('exit', onExit);
      });
    }
    // A worker whose 'exit' fired before we listened still settles the race.
    for (const worker of workers) {
      if (worker.state === 'exited') void worker.exited.then((exit) => finish({ ok: false, reason: 'exited-before-ready', worker, exit }));
    }
    check();
  });
}
