/**
 * One upgrade: bring up a whole new generation (bring-up.ts), requiring it to
 * serve every address the live generation serves. The caller drains the old
 * generation only after this resolves `ok`, that is, after every new worker
 * has confirmed it accepts. On failure the new generation is retired first,
 * then its workers, which have accepted nothing, are killed and awaited.
 */
import { bringUp } from '../bring-up/bring-up.js';
import type { MasterContext } from '../context.js';
import type { UpgradeResult } from '../events.js';
import { type Generation, servingKeys } from './generation.js';
import { upgradePhases } from './phases.js';

/** `started`: the clock time of the trigger, which the phase times count from. */
export async function runUpgrade(
  ctx: MasterContext,
  next: Generation,
  current: Generation | undefined,
  started = ctx.clock.now(),
): Promise<UpgradeResult> {
  const outcome = await bringUp(ctx, {
    spawns: next.slots.map((slot) => () => ctx.spawn(next, slot)),
    mustServe: servingKeys(current),
    abandon: () => (next.retired = true),
  });
  if (outcome.ok) {
    const phases = upgradePhases(outcome.workers, started);
    return {
      ok: true, generation: next.number, pids: outcome.workers.map((w) => w.pid), durationMs: Math.round(ctx.clock.now() - started),
      ...(phases ? { phases } : {}),
    };
  }
  await outcome.exited;
  const { reason, message, code, signal, stderr } = outcome;
  return {
    ok: false, generation: next.number, reason, message, durationMs: Math.round(ctx.clock.now() - started),
    ...(code === undefined ? {} : { code }), ...(signal === undefined ? {} : { signal }), ...(stderr === undefined ? {} : { stderr }),
  };
}
