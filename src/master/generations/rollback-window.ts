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
import type { EventEmitter } from 'node:events';
import type { MasterContext } from '../context.js';
import type { MasterEvents } from '../events.js';
import type { Generation } from './generation.js';
import { fillSlot } from './restart.js';
import { retire } from './retire.js';

export type WindowEnd = { readonly rolledBack: false } | { readonly rolledBack: true; readonly message: string };

export interface WindowHooks {
  /** The master's events: a worker of the new generation that exits unexpectedly or hangs ends the window with a rollback. */
  readonly events: EventEmitter<MasterEvents>;
  /** Ends the window early (without a rollback) when aborted. */
  readonly end: AbortSignal;
}

/** Calls `fail` when a worker of `generation` exits unexpectedly or is hung; returns the unsubscribe. */
function watchFailures(events: EventEmitter<MasterEvents>, generation: number, fail: (message: string) => void): () => void {
  const onExit = (e: MasterEvents['worker.exited'][0]) => {
    if (e.generation === generation && !e.expected) fail(`worker ${e.pid} exited (${e.signal ? `signal ${e.signal}` : `code ${e.code}`}) within the rollback window`);
  };
  const onHung = (e: MasterEvents['worker.hung'][0]) => {
    if (e.generation === generation) fail(`worker ${e.pid} hung (no heartbeat for ${e.silentMs} ms) within the rollback window`);
  };
  events.on('worker.exited', onExit);
  events.on('worker.hung', onHung);
  return () => {
    events.off('worker.exited', onExit);
    events.off('worker.hung', onHung);
  };
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
    const unwatch = watchFailures(hooks.events, next.number, (message) => done(message));
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
