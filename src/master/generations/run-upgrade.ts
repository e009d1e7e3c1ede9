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

export async function runUpgrade(
  ctx: MasterContext,
  next: Generation,
  current: Generation | undefined,
): Promise<UpgradeResult> {
  const started = ctx.clock.now();
  const outcome = await bringUp(ctx, {
    spawns: next.slots.map((slot) => () => ctx.spawn(next, slot)),
    mustServe: servingKeys(current),
    abandon: () => (next.retired = true),
  });
  if (outcome.ok) {
    return { ok: true, generation: next.number, pids: outcome.workers.map((w) => w.pid), durationMs: Math.round(ctx.clock.now() - started) };
  }
  await outcome.exited;
  const { reason, message, code, signal, stderr } = outcome;
  return {
    ok: false, generation: next.number, reason, message, durationMs: Math.round(ctx.clock.now() - started),
    ...(code === undefined ? {} : { code }), ...(signal === undefined ? {} : { signal }), ...(stderr === undefined ? {} : { stderr }),
  };
}
