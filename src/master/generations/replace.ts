/**
 * Replacing one live worker of a generation in service: a hung one
 * (`--hang-timeout`) or one that leaks (`--max-memory`). The replacement is
 * brought up for the same slot through the one pipeline (bring-up.ts); only
 * once it accepts is the old worker taken out:
 * - `kill` (a hung worker): SIGKILL, since a blocked event loop cannot drain;
 * - `drain` (a recycled worker): drained exactly as in an upgrade.
 *
 * The slot points at the replacement from its spawn on (ctx.spawn), so the
 * old worker's exit is not taken for a crash of the slot: no second restart.
 *
 * When the replacement does not come up:
 * - `kill`: the hung worker is killed anyway (it serves nothing) and the slot
 *   is refilled with the crash backoff, as after a crash;
 * - `drain`: the old worker (working, only big) stays in its slot and
 *   serves on; the caller may try again later.
 * If the generation was retired or the master stops meanwhile, the old
 * worker is taken out as the retirement would have: the slot no longer
 * pointed at it.
 */
import { bringUp } from '../bring-up/bring-up.js';
import type { MasterContext } from '../context.js';
import type { WorkerHandle } from '../workers/worker-handle.js';
import type { Generation, Slot } from './generation.js';
import { scheduleRestart } from './restart.js';

export type ReplaceMode = 'kill' | 'drain';

/** Resolves true once the replacement is live (and the old worker killed or draining). */
export async function replaceWorker(ctx: MasterContext, generation: Generation, slot: Slot, old: WorkerHandle, mode: ReplaceMode): Promise<boolean> {
  const inService = () => !generation.retired && ctx.running();
  if (!inService() || slot.worker !== old) return false;
  const outcome = await bringUp(ctx, { spawns: [() => ctx.spawn(generation, slot)], stillWanted: inService });
  if (outcome.ok) {
    ctx.emit('worker.live', outcome.workers[0]!.facts);
    ctx.slotLive(generation);
    takeOut(ctx, old, mode);
    return true;
  }
  if (outcome.reason !== 'stopping' && inService()) { // a retirement that killed the replacement is no failed start
    const { reason, message, worker, code, signal } = outcome;
    const who = worker?.facts ?? { workerId: 0, generation: generation.number, slot: slot.index, pid: undefined };
    ctx.emit('worker.start-failed', { ...who, reason, message, ...(code === undefined ? {} : { code }), ...(signal === undefined ? {} : { signal }) });
  }
  if (mode === 'kill' || !inService()) {
    // Its exit must not schedule a restart of its own (this one does, below).
    if (slot.worker === old) slot.worker = undefined;
    takeOut(ctx, old, mode);
  } else if (old.state === 'live') {
    slot.worker = old; // it serves on in its slot: its crash is the slot's again
    return false;
  }
  await outcome.exited;
  if (mode === 'kill' && inService() && !slot.cancelRestart) scheduleRestart(ctx, generation, slot, 0);
  return false;
}

function takeOut(ctx: MasterContext, old: WorkerHandle, mode: ReplaceMode): void {
  if (mode === 'kill') {
    old.kill('SIGKILL');
    return;
  }
  if (old.state === 'live') ctx.emit('drain.started', { ...old.facts, reason: 'recycle' });
  old.dismiss('upgrade', ctx.options.drainTimeoutMs, ctx.options.killTimeoutMs);
}
