/**
 * The upgrade queue: one upgrade at a time, and at most one follow-up behind
 * it. Triggers that arrive while one runs coalesce into that follow-up (the
 * last trigger names it), so the version deployed last wins and a burst of
 * triggers costs two upgrades, not one per trigger.
 *
 * When a run settles, the follow-up starts synchronously in the settle
 * callback, before any caller's continuation runs, so an `enqueue()` made
 * right after another resolved starts a fresh run rather than joining a
 * finished one. A run that throws (a bug, or an event listener that threw)
 * is reported as `internal-error` and does not wedge the queue.
 */
import type { UpgradeResult } from '../events.js';

/** The outcome of the most recent upgrade, for `overseer status`. */
export type LastUpgrade = UpgradeResult & { readonly trigger: string; readonly finishedAt: string };

export interface UpgradeQueueDeps {
  /** Run one upgrade; may throw. */
  run(trigger: string): Promise<UpgradeResult>;
  /** A trigger joined the follow-up. */
  coalesced(trigger: string): void;
  /** A run threw: report it (may throw too; the result stands). */
  internalFailure(result: Extract<UpgradeResult, { ok: false }>): void;
}

interface FollowUp {
  trigger: string;
  readonly promise: Promise<UpgradeResult>;
  readonly resolve: (result: UpgradeResult) => void;
}

export class UpgradeQueue {
  readonly #deps: UpgradeQueueDeps;
  /** The upgrade running now, if any. */
  #current: Promise<UpgradeResult> | undefined;
  #followUp: FollowUp | undefined;
  #last: LastUpgrade | undefined;

  /** `last`: the outcome a predecessor master reported last (succession/). */
  constructor(deps: UpgradeQueueDeps, last?: LastUpgrade) {
    this.#deps = deps;
    this.#last = last;
  }

  get busy(): boolean {
    return this.#current !== undefined;
  }

  get last(): LastUpgrade | undefined {
    return this.#last;
  }

  /** Resolves with this trigger's upgrade, or the follow-up it joined; never rejects. */
  enqueue(trigger: string): Promise<UpgradeResult> {
    if (!this.#current) return this.#start(trigger);
    this.#deps.coalesced(trigger);
    if (this.#followUp) {
      this.#followUp.trigger = trigger;
      return this.#followUp.promise;
    }
    let resolve!: (result: UpgradeResult) => void;
    const promise = new Promise<UpgradeResult>((r) => (resolve = r));
    this.#followUp = { trigger, promise, resolve };
    return promise;
  }

  /** Drop the queued follow-up, resolving its callers with `result`. */
  cancelFollowUp(result: UpgradeResult): void {
    const followUp = this.#followUp;
    this.#followUp = undefined;
    followUp?.resolve(result);
  }

  /** Resolves once no upgrade runs. */
  async idle(): Promise<void> {
    while (this.#current) await this.#current;
  }

  #start(trigger: string): Promise<UpgradeResult> {
    const run = this.#deps.run(trigger).catch((error: unknown) => this.#internalFailure(error)).then((result) => {
      this.#last = { ...result, trigger, finishedAt: new Date().toISOString() };
      const next = this.#followUp;
      this.#followUp = undefined;
      if (next) void this.#start(next.trigger).then(next.resolve);
      else this.#current = undefined;
      return result;
    });
    this.#current = run;
    return run;
  }

  #internalFailure(error: unknown): UpgradeResult {
    const result: Extract<UpgradeResult, { ok: false }> = {
      ok: false, generation: undefined, reason: 'internal-error', durationMs: 0,
      message: error instanceof Error ? error.message : String(error),
    };
    try {
      this.#deps.internalFailure(result);
    } catch {
      // the listener that threw may throw again; the result still stands
    }
    return result;
  }
}
