/**
 * Filling a slot of a generation that is already in service: the first
 * generation's start, and the replacement of a crashed worker. The worker
 * goes starting → ready → live like any other; a failure to get there is
 * retried with the slot's backoff, for as long as the generation serves.
 */
import { type ReadyOutcome, awaitReady } from './await-ready.js';
import { activateAll } from './activate.js';
import { type MasterContext, facts } from './context.js';
import type { Generation, Slot } from './generation.js';
import { notReadyReason } from './not-ready.js';
import type { WorkerHandle } from './worker-handle.js';

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
  if (generation.retired || !ctx.running()) return;
  let worker: WorkerHandle;
  try {
    worker = ctx.spawn(generation, slot);
  } catch (error) {
    // fork() throws at once for some errors (E2BIG, ENOMEM): a failed start like any other.
    ctx.emit('worker.start-failed', {
      workerId: 0, generation: generation.number, slot: slot.index, pid: undefined,
      reason: `cannot start a worker: ${(error as Error).message}`,
    });
    scheduleRestart(ctx, generation, slot, 0);
    return;
  }
  const outcome = await awaitReady([worker], { timeoutMs: ctx.options.readyTimeoutMs, clock: ctx.clock, signal: ctx.stopSignal });
  if (generation.retired || !ctx.running()) {
    worker.kill('SIGKILL'); // never activated: it accepted nothing
    return;
  }
  let failure = outcome.ok ? undefined : describeFailure(outcome, ctx);
  if (!failure) {
    const activation = await activateAll([worker], ctx.clock);
    if (activation?.reason === 'exited-before-ready') failure = describeFailure({ ok: false, ...activation }, ctx);
    else if (activation) failure = { reason: `activate-failed: ${activation.message}` };
  }
  if (failure) {
    worker.kill('SIGKILL');
    ctx.emit('worker.start-failed', { ...facts(worker), ...failure });
    await worker.exited;
    if (!generation.retired && ctx.running()) scheduleRestart(ctx, generation, slot, 0);
    return;
  }
  ctx.emit('worker.live', facts(worker));
  ctx.slotLive(generation);
}

/** The failed outcome in words; `ctx` explains a ready timeout with what the worker did instead (not-ready.ts). */
export function describeFailure(
  outcome: Exclude<ReadyOutcome, { ok: true }>,
  ctx: Pick<MasterContext, 'options' | 'held'>,
): { reason: string; code?: number | null; signal?: string | null } {
  switch (outcome.reason) {
    case 'exited-before-ready': {
      const how = outcome.exit.signal ? `signal ${outcome.exit.signal}` : `code ${outcome.exit.code}`;
      return { reason: `worker ${outcome.worker.pid} exited before ready (${how})`, code: outcome.exit.code, signal: outcome.exit.signal };
    }
    case 'ready-timeout':
      return {
        reason: notReadyReason(outcome.worker, { readyTimeoutMs: ctx.options.readyTimeoutMs, waitReady: ctx.options.waitReady, held: ctx.held() }),
      };
    case 'stopping':
      return { reason: 'master is stopping' };
  }
}
