/**
 * The one way workers are brought into service: spawn → race ready / exit /
 * timeout / stop (await-ready.ts) → check the listeners they must serve →
 * activate (activate.ts) → on failure, kill them all. Every path that starts
 * workers goes through here: an upgrade (a whole generation), the first start
 * and a crash restart (one slot), and a worker that drains on its own (one
 * slot, replaced at once). A later replacement of a hung worker or a rollback
 * is the same call for one slot, followed by a drain or kill of another.
 *
 * A worker killed before ready by SIGHUP or SIGUSR2, signals the master
 * never sends, was hit by a signal meant for the master that reached it
 * before its preload could ignore it (signals.ts in src/worker): systemd's
 * `systemctl kill -s HUP` goes on signalling every process of the unit's
 * cgroup until it finds no new one, so the workers an upgrade forks in
 * answer to that very signal get it too, within milliseconds of their start
 * (Node resets ignored signals at start-up, so the master cannot pass the
 * "ignore" down). Such a worker is spawned again for its slot, after
 * RESPAWN_DELAY_MS, at most MAX_RESPAWNS times per bring-up and within the
 * same ready deadline; it had accepted nothing.
 *
 * Contract: `ok` means every worker has confirmed that it accepts (state
 * `live`). Otherwise no worker of this bring-up is left running: each one
 * has been sent SIGKILL (it had accepted nothing, its listeners being held
 * back), and `exited` settles once they all have exited. `abandon` runs
 * before the first kill, so the caller can take the slots out of service
 * first and their exits are not mistaken for crashes.
 */
import type { ListenAddress } from '../../ipc/address.js';
import type { BringUpFailureReason } from '../../errors.js';
import { activateAll } from './activate.js';
import { type ReadyOutcome, awaitReady } from './await-ready.js';
import type { Clock } from '../../clock.js';
import { notReadyReason } from './not-ready.js';
import type { MasterOptions } from '../options/options.js';
import type { WorkerHandle } from '../workers/worker-handle.js';

export interface BringUpContext {
  readonly clock: Clock;
  readonly options: Pick<MasterOptions, 'readyTimeoutMs' | 'waitReady'>;
  /** Aborted when the master starts stopping. */
  readonly stopSignal: AbortSignal;
  /** The addresses the master holds now, to say where a worker that never got ready should have listened. */
  held(): readonly ListenAddress[];
  /** A worker killed at start-up by a signal meant for the master is spawned again (see above). */
  respawned?(killed: WorkerHandle, signal: string, replacement: WorkerHandle): void;
  /**
   * A successor master's first workers, ready, wait here before they are
   * activated (succession/hold-back.ts); undefined: no wait.
   */
  holdBack?(workers: readonly WorkerHandle[]): Promise<void> | undefined;
}

/** Signals the master never sends a worker: one that kills a starting worker came from outside, meant for the master. */
const MASTERS_SIGNALS: ReadonlySet<string> = new Set(['SIGHUP', 'SIGUSR2']);
/** Respawns per bring-up: enough for a burst of signals, not a loop. */
export const MAX_RESPAWNS = 3;
/** Long enough for systemd's kill loop over the cgroup to have finished (it takes milliseconds). */
export const RESPAWN_DELAY_MS = 100;

export interface BringUpPlan {
  /** One spawn per worker to bring up; each may throw (fork() fails at once for E2BIG, ENOMEM). */
  readonly spawns: ReadonlyArray<() => WorkerHandle>;
  /** Listener keys every worker must accept on before it is activated (an upgrade: what the old generation serves). */
  readonly mustServe?: ReadonlySet<string>;
  /** Asked once the race is won: false (the slot was retired meanwhile) abandons the bring-up as `stopping`. */
  readonly stillWanted?: () => boolean;
  /** Runs once, before any worker of a failed bring-up is killed. */
  readonly abandon?: () => void;
}

export type BringUpOutcome =
  | { readonly ok: true; readonly workers: readonly WorkerHandle[] }
  | {
      readonly ok: false;
      readonly reason: BringUpFailureReason;
      /** One sentence: what happened, to which worker. */
      readonly message: string;
      /** The worker that failed; undefined when it could not be spawned, or for a stop. */
      readonly worker: WorkerHandle | undefined;
      readonly code?: number | null;
      readonly signal?: string | null;
      /** The failed worker's last stderr lines, when they can explain the failure. */
      readonly stderr?: readonly string[];
      /** Settles once every spawned worker has exited. */
      readonly exited: Promise<void>;
    };

type Failure = Omit<Extract<BringUpOutcome, { ok: false }>, 'ok' | 'exited'>;

export async function bringUp(ctx: BringUpContext, plan: BringUpPlan): Promise<BringUpOutcome> {
  const workers: WorkerHandle[] = [];
  const fail = (failure: Failure): BringUpOutcome => {
    plan.abandon?.();
    for (const worker of workers) worker.kill('SIGKILL');
    return { ok: false, ...failure, exited: Promise.all(workers.map((w) => w.exited)).then(() => {}) };
  };

  try {
    for (const spawn of plan.spawns) workers.push(spawn());
  } catch (error) {
    return fail({ reason: 'spawn-failed', message: `cannot start a worker: ${(error as Error).message}`, worker: undefined });
  }

  const deadline = ctx.clock.now() + ctx.options.readyTimeoutMs;
  let outcome: ReadyOutcome;
  for (let respawns = 0; ; respawns++) {
    const timeoutMs = Math.max(0, deadline - ctx.clock.now());
    outcome = await awaitReady(workers, { timeoutMs, clock: ctx.clock, signal: ctx.stopSignal });
    const signal = !outcome.ok && outcome.reason === 'exited-before-ready' ? outcome.exit.signal : null;
    if (outcome.ok || signal === null || !MASTERS_SIGNALS.has(signal) || respawns === MAX_RESPAWNS) break;
    if (plan.stillWanted && !plan.stillWanted()) break;
    const killed = (outcome as { worker: WorkerHandle }).worker;
    await sleep(ctx.clock, RESPAWN_DELAY_MS);
    const index = workers.indexOf(killed);
    try {
      workers[index] = plan.spawns[index]!();
    } catch (error) {
      return fail({ reason: 'spawn-failed', message: `cannot start a worker: ${(error as Error).message}`, worker: undefined });
    }
    ctx.respawned?.(killed, signal, workers[index]!);
  }
  if (outcome.ok) await ctx.holdBack?.(workers);
  if (plan.stillWanted && !plan.stillWanted()) return fail(stopping());
  if (!outcome.ok) return fail(describeNotReady(outcome, ctx));

  // A new version must serve everything the old one serves, or traffic to a
  // forgotten address would queue with nobody accepting it.
  for (const worker of workers) {
    const missing = [...(plan.mustServe ?? [])].filter((key) => !worker.listenerKeys.has(key));
    if (missing.length > 0) {
      return fail({ reason: 'missing-listeners', message: `new worker ${worker.pid} does not listen on ${missing.join(', ')}`, worker });
    }
  }

  const activation = await activateAll(workers, ctx.clock);
  if (activation?.reason === 'exited-before-ready') return fail(describeNotReady({ ok: false, ...activation }, ctx));
  if (activation) return fail({ reason: 'activate-failed', message: activation.message, worker: activation.worker });
  return { ok: true, workers };
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

function stopping(): Failure {
  return { reason: 'stopping', message: 'master is stopping', worker: undefined };
}

/** A lost race in words; a ready timeout is explained with what the worker did instead (not-ready.ts). */
function describeNotReady(outcome: Exclude<ReadyOutcome, { ok: true }>, ctx: BringUpContext): Failure {
  switch (outcome.reason) {
    case 'exited-before-ready': {
      const { worker, exit } = outcome;
      const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
      return {
        reason: 'exited-before-ready', message: `worker ${worker.pid} exited before ready (${how})`, worker,
        code: exit.code, signal: exit.signal, stderr: [...worker.stderrTail],
      };
    }
    case 'ready-timeout': {
      const { worker } = outcome;
      const message = notReadyReason(worker, { readyTimeoutMs: ctx.options.readyTimeoutMs, waitReady: ctx.options.waitReady, held: ctx.held() });
      return { reason: 'ready-timeout', message, worker, stderr: [...worker.stderrTail] };
    }
    case 'stopping':
      return stopping();
  }
}
