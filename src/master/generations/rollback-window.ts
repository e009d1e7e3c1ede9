/**
 * Warm rollback (`--rollback-window`, docs/upgrade.md): once a new generation
 * is live, the old one stands by instead of draining (it stops accepting and
 * ends its keep-alive in-band, but keeps running, code loaded, hooks not
 * run). The window ends at the first of:
 * - `failed(message)`: a new worker exited unexpectedly or hung → rollback:
 *   the standby workers accept again (no boot: the same processes), then
 *   the new generation is retired (its survivors drain);
 * - the window's time passing, a stop, or `end` (a new upgrade was asked
 *   for: it starts from the new generation) → the old generation drains as
 *   without a window.
 * A rollback racing a stop does not happen: the stop wins, and both
 * generations are taken down by it.
 *
 * While the old generation stands by it is marked retired, so a standby
 * worker that exits is not restarted; on a rollback a slot left without a
 * worker is filled again (restart.ts).
 */
import type { MasterContext } from '../context.js';
import type { Generation } from './generation.js';
import { fillSlot } from './restart.js';
import { retire } from './retire.js';

export type WindowEnd = { readonly rolledBack: false } | { readonly rolledBack: true; readonly message: string };

export interface WindowHooks {
  /** Calls `fail` when a worker of the new generation exits unexpectedly or hangs; returns an unsubscribe. */
  readonly watchFailures: (fail: (message: string) => void) => () => void;
  /** Ends the window early (without a rollback) when aborted. */
  readonly end: AbortSignal;
}

export async function rollbackWindow(ctx: MasterContext, next: Generation, previous: Generation, hooks: WindowHooks): Promise<WindowEnd> {
  previous.retired = true;
  for (const slot of previous.slots) {
    slot.cancelRestart?.();
    slot.cancelRestart = undefined;
    slot.worker?.standby(ctx.options.drainTimeoutMs);
  }
  const failure = await new Promise<string | undefined>((resolve) => {
    const cancelTimer = ctx.clock.setTimeout(() => done(undefined), ctx.options.rollbackWindowMs);
    const unwatch = hooks.watchFailures((message) => done(message));
    const onAbort = () => done(undefined);
    ctx.stopSignal.addEventListener('abort', onAbort);
    hooks.end.addEventListener('abort', onAbort);
    if (ctx.stopSignal.aborted || hooks.end.aborted) onAbort();
    function done(message: string | undefined): void {
      cancelTimer();
      unwatch();
      ctx.stopSignal.removeEventListener('abort', onAbort);
      hooks.end.removeEventListener('abort', onAbort);
      resolve(message);
    }
  });
  if (failure === undefined || !ctx.running()) {
    retire(ctx, previous, 'upgrade');
    return { rolledBack: false };
  }
  // The old generation accepts again first, then the new one goes.
  previous.retired = false;
  await Promise.all(previous.slots.map(async (slot) => {
    const worker = slot.worker;
    if (worker?.state !== 'standby') return;
    try {
      await worker.resume(ctx.options.readyTimeoutMs);
    } catch {
      worker.kill('SIGKILL'); // it could not accept again: its slot is filled below
    }
  }));
  retire(ctx, next, 'upgrade');
  for (const slot of previous.slots) {
    if (slot.worker?.state !== 'live') void fillSlot(ctx, previous, slot);
  }
  return { rolledBack: true, message: failure };
}
