/**
 * Upgrade progress for the control socket: follows the master's typed events
 * and turns them into UpgradeProgress steps (src/ipc/control.ts) for one
 * client that asked for them.
 *
 * Contract:
 * - Before the outcome, it reports the upgrade that is starting: `started`,
 *   `spawned n/N`, `ready n/N`. A request that joins a running upgrade
 *   starts from its counts so far (from `status()`), then sees the follow-up
 *   it was coalesced into (whose outcome it gets) from `started`.
 * - `settle(outcome)` is called once the outcome is sent. If the new
 *   generation is live, the old one drained by that upgrade is followed
 *   (`draining` on each change, `done` when its last worker has exited);
 *   otherwise (rejected, or no old generation) `done` at once. After `done`
 *   it sends nothing more and has removed every listener it added.
 * - With `--rollback-window`, the outcome waits for the window: from
 *   `upgrade.window` on, `watching` reports the seconds left, once a second,
 *   until the outcome settles it (kept, or rolled back).
 * - `close()` (the client went away) removes every listener at once.
 * The old generation's workers are known from the events themselves:
 * `upgrade.succeeded` names it (`previous`) and its `drain.started` events
 * follow synchronously (retire.ts), before the outcome resolves.
 */
import type { EventEmitter } from 'node:events';
import type { MasterStatus, UpgradeOutcome, UpgradeProgress } from '../../ipc/control.js';
import type { MasterEvents } from '../events.js';

/** What progress needs of the master: its events, its worker count, the connections a worker reported (heartbeats). */
export interface ProgressSource extends Pick<EventEmitter<MasterEvents>, 'on' | 'off'> {
  readonly options: { readonly workers: number };
  /** Read once, for a request that joins a running upgrade: what of it has already happened. */
  status(): MasterStatus;
  /** Open connections on a worker's servers from its last heartbeat; undefined if none came. Optional: without it, `connections` is null. */
  connectionsOf?(workerId: number): number | undefined;
}

export interface ProgressFollower {
  settle(outcome: UpgradeOutcome): void;
  close(): void;
}

/** How often `draining` is repeated while connections are counted down (the heartbeat interval is at most 1 s). */
const DRAIN_TICK_MS = 250;
/** How often `watching` counts down the rollback window. */
const WATCH_TICK_MS = 1_000;

export function followUpgrade(source: ProgressSource, send: (step: UpgradeProgress) => void, now: () => number = Date.now): ProgressFollower {
  const of = source.options.workers;
  let startedAt = now();
  let generation: number | undefined;
  let spawned = 0;
  let ready = 0;
  let liveAt: number | undefined;
  let previous: number | undefined;
  const draining = new Set<number>();
  let settled = false;
  let done = false;
  let tick: NodeJS.Timeout | undefined;
  let watching: NodeJS.Timeout | undefined;
  const at = () => Math.round(now() - startedAt);

  const listeners: { [K in keyof MasterEvents]?: (...args: MasterEvents[K]) => void } = {
    'upgrade.started': ({ generation: g }) => {
      startedAt = now();
      generation = g;
      spawned = 0;
      ready = 0;
      liveAt = undefined;
      previous = undefined;
      draining.clear();
      send({ phase: 'started', generation: g, of, atMs: 0 });
    },
    'worker.spawned': (w) => {
      if (w.generation !== generation || liveAt !== undefined) return;
      spawned = Math.min(of, spawned + 1);
      send({ phase: 'spawned', generation: w.generation, spawned, of, atMs: at() });
    },
    'worker.ready': (w) => {
      if (w.generation !== generation || liveAt !== undefined) return;
      ready = Math.min(of, ready + 1);
      send({ phase: 'ready', generation: w.generation, ready, of, startupMs: w.startupMs, atMs: at() });
    },
    'upgrade.succeeded': (u) => {
      if (u.generation !== generation) return;
      liveAt = at();
      previous = u.previous;
      send({ phase: 'live', generation: u.generation, atMs: liveAt });
    },
    'upgrade.window': ({ generation: g, windowMs }) => {
      if (g !== generation || settled) return;
      const endsAt = now() + windowMs;
      const report = () => send({ phase: 'watching', generation: g, secondsLeft: Math.max(0, Math.ceil((endsAt - now()) / 1000)), atMs: at() });
      report();
      watching = setInterval(report, WATCH_TICK_MS);
      watching.unref();
    },
    'drain.started': (w) => {
      if (previous === undefined || w.generation !== previous || done) return;
      draining.add(w.workerId);
    },
    'worker.exited': (w) => {
      if (!draining.delete(w.workerId)) return;
      if (settled) reportDrain();
    },
  };
  const now0 = source.status();
  const joined = now0.upgrading ? now0.starting : [];
  if (joined.length > 0) {
    generation = joined[0]!.generation;
    spawned = Math.min(of, joined.length);
    ready = Math.min(of, joined.filter((w) => w.state !== 'starting').length);
    send({ phase: 'started', generation, of, atMs: 0 });
    send({ phase: 'spawned', generation, spawned, of, atMs: 0 });
  }

  const names = Object.keys(listeners) as (keyof MasterEvents)[];
  const on = (name: keyof MasterEvents) => source.on(name, listeners[name] as never);
  for (const name of names) on(name);

  const close = () => {
    clearInterval(tick);
    clearInterval(watching);
    for (const name of names) source.off(name, listeners[name] as never);
  };

  const connections = (): number | null => {
    if (!source.connectionsOf) return null;
    let sum: number | null = null;
    for (const id of draining) {
      const n = source.connectionsOf(id);
      if (n !== undefined) sum = (sum ?? 0) + n;
    }
    return sum;
  };

  let lastDrain = '';
  const reportDrain = () => {
    if (done) return;
    if (draining.size === 0) {
      done = true;
      close();
      const end = at();
      send({ phase: 'done', generation, liveMs: liveAt, drainMs: liveAt === undefined ? undefined : end - liveAt, atMs: end });
      return;
    }
    const step: UpgradeProgress = { phase: 'draining', generation: previous!, workers: draining.size, connections: connections(), atMs: at() };
    const key = `${step.workers}/${step.connections}`;
    if (key === lastDrain) return; // only changes are worth a line
    lastDrain = key;
    send(step);
  };

  return {
    settle(outcome) {
      if (settled) return;
      settled = true;
      clearInterval(watching);
      if (!outcome.ok) draining.clear();
      reportDrain();
      if (!done) {
        tick = setInterval(reportDrain, DRAIN_TICK_MS);
        tick.unref();
      }
    },
    close,
  };
}
