/**
 * Activating ready workers. A worker can die between saying ready and being
 * activated (an app that exits right after listen()); that is reported like
 * any exit before its generation went live: `exited-before-ready`, with the
 * exit code or signal, not as an activation error.
 */
import type { Clock } from '../../clock.js';
import type { ExitInfo, WorkerHandle } from '../workers/worker-handle.js';

/** How long a ready worker has to confirm that it accepts. */
export const ACTIVATE_TIMEOUT_MS = 5_000;
/** How long to wait for the exit of a worker whose channel closed. */
const EXIT_AFTER_CLOSE_MS = 1_000;

export type ActivationFailure =
  | { readonly reason: 'exited-before-ready'; readonly worker: WorkerHandle; readonly exit: ExitInfo }
  | { readonly reason: 'activate-failed'; readonly worker: WorkerHandle; readonly message: string };

/** Activate every worker; resolves `undefined` when all accept, else the first failure. */
export async function activateAll(workers: readonly WorkerHandle[], clock: Clock): Promise<ActivationFailure | undefined> {
  const results = await Promise.allSettled(workers.map((w) => w.activate(ACTIVATE_TIMEOUT_MS)));
  const index = results.findIndex((r) => r.status === 'rejected');
  if (index < 0) return undefined;
  const worker = workers[index]!;
  const error = (results[index] as PromiseRejectedResult).reason as Error & { code?: string };
  if (error.code === 'ERR_IPC_CLOSED') {
    let cancel: (() => void) | undefined;
    const exit = await Promise.race([
      worker.exited,
      new Promise<undefined>((resolve) => (cancel = clock.setTimeout(() => resolve(undefined), EXIT_AFTER_CLOSE_MS))),
    ]);
    cancel?.();
    if (exit) return { reason: 'exited-before-ready', worker, exit };
  }
  return { reason: 'activate-failed', worker, message: error.message };
}
