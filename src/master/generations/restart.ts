/**
 * Filling a slot of a generation that is already in service: the first
 * generation's start, the replacement of a crashed worker, and of one that
 * drains on its own. The worker is brought up like any other (bring-up.ts);
 * a failure to get there is retried with the slot's backoff, for as long as
 * the generation serves.
 */
import { bringUp } from '../bring-up/bring-up.js';
import type { MasterContext } from '../context.js';
import type { Generation, Slot } from './generation.js';

export function scheduleRestart(ctx: MasterContext, generation: Generation, slot: Slot, uptimeMs: number): void {
  const delayMs = slot.backoff.next(uptimeMs);
  ctx.emit('worker.restart-scheduled', { generation: generation.number, slot: slot.index, delayMs, failures: slot.backoff.failures });
  slot.cancelRestart = ctx.clock.setTimeout(() => {
    slot.cancelRestart = undefined;
    slot.restarts++;
    void fillSlot(ctx, generation, slot);
  }, delayMs);
}

/** Start a worker in the slot; on failure, schedule another try. */
export async function fillSlot(ctx: MasterContext, generation: Generation, slot: Slot): Promise<void> {
  const inService = () => !generation.retired && ctx.running();
  if (!inService()) return;
  const outcome = await bringUp(ctx, { spawns: [() => ctx.spawn(generation, slot)], stillWanted: inService });
  if (outcome.ok) {
    ctx.emit('worker.live', outcome.workers[0]!.facts);
    ctx.slotLive(generation);
    return;
  }
  if (outcome.reason === 'stopping') return; // retired or stopping meanwhile: not a failed start
  const { reason, message, worker, code, signal } = outcome;
  const who = worker?.facts ?? { workerId: 0, generation: generation.number, slot: slot.index, pid: undefined };
  ctx.emit('worker.start-failed', { ...who, reason, message, ...(code === undefined ? {} : { code }), ...(signal === undefined ? {} : { signal }) });
  await outcome.exited;
  if (inService()) scheduleRestart(ctx, generation, slot, 0);
}
