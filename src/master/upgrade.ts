/**
 * One upgrade: start a whole new generation, race it (await-ready.ts), check
 * it serves every address the live generation serves, and activate it. The
 * caller drains the old generation only after this resolves `ok`, that is,
 * after every new worker has confirmed it accepts. On failure the new
 * workers, which have accepted nothing, are killed and awaited.
 */
import type { UpgradeFailureReason } from '../errors.js';
import { awaitReady } from './await-ready.js';
import { activateAll } from './activate.js';
import type { MasterContext } from './context.js';
import type { UpgradeResult } from './events.js';
import { type Generation, servingKeys } from './generation.js';
import { describeFailure } from './slots.js';
import type { WorkerHandle } from './worker-handle.js';

type Failure = Extract<UpgradeResult, { ok: false }>;

export async function runUpgrade(
  ctx: MasterContext,
  next: Generation,
  current: Generation | undefined,
): Promise<UpgradeResult> {
  const started = ctx.clock.now();
  const elapsed = () => Math.round(ctx.clock.now() - started);
  const workers: WorkerHandle[] = [];

  const fail = async (reason: UpgradeFailureReason, message: string, extra: Partial<Failure> = {}): Promise<Failure> => {
    next.retired = true;
    for (const worker of workers) worker.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    return { ok: false, generation: next.number, reason, message, durationMs: elapsed(), ...extra };
  };

  try {
    for (const slot of next.slots) workers.push(ctx.spawn(next, slot));
  } catch (error) {
    // fork() throws at once for some errors (E2BIG, ENOMEM, bad arguments).
    return fail('spawn-failed', `cannot start a worker: ${(error as Error).message}`);
  }

  const outcome = await awaitReady(workers, { timeoutMs: ctx.options.readyTimeoutMs, clock: ctx.clock, signal: ctx.stopSignal });
  if (!outcome.ok) {
    const { reason, code, signal } = describeFailure(outcome, ctx);
    const stderr = outcome.reason === 'stopping' ? {} : { stderr: [...outcome.worker.stderrTail] };
    return fail(outcome.reason, reason, { code, signal, ...stderr });
  }

  // The new version must serve everything the old one serves, or traffic to
  // a forgotten address would queue with nobody accepting it.
  const serving = servingKeys(current);
  for (const worker of workers) {
    const missing = [...serving].filter((key) => !worker.listenerKeys.has(key));
    if (missing.length > 0) return fail('missing-listeners', `new worker ${worker.pid} does not listen on ${missing.join(', ')}`);
  }

  const failure = await activateAll(workers, ctx.clock);
  if (failure?.reason === 'exited-before-ready') {
    const { reason, code, signal } = describeFailure({ ok: false, ...failure }, ctx);
    return fail('exited-before-ready', reason, { code, signal, stderr: [...failure.worker.stderrTail] });
  }
  if (failure) return fail('activate-failed', failure.message);
  return { ok: true, generation: next.number, pids: workers.map((w) => w.pid), durationMs: elapsed() };
}
