/**
 * From the master to the series (series.ts): its events feed the counters
 * and histograms as they happen; the gauges are read from it at each scrape.
 *
 * Which event counts as which upgrade result or restart reason is decided
 * in the two tables below, and only there: a new event that replaces a
 * worker or ends an upgrade gets a row (a row for an event the master does
 * not emit yet is refused by the type of `MasterEvents`, so rows come with
 * their events).
 *
 * Requests: each worker's heartbeat carries its request count since it
 * started. The master keeps a running total and adds each worker's increase
 * since its previous heartbeat, so the total never goes backwards when a
 * worker exits and a new one starts from 0 (upgrades, restarts, recycles).
 * What a worker counted after its last heartbeat is not seen (at most one
 * heartbeat interval, 1 s).
 */
import type { MasterEvents } from '../events.js';
import type { Master } from '../master.js';
import type { ReadRss } from '../health/rss.js';
import type { WorkerHandle } from '../workers/worker-handle.js';
import { type RestartReasonLabel, type Series, type UpgradeResultLabel, type WorkerStateLabel, createSeries } from './series.js';

type Classify<K extends keyof MasterEvents, L> = (payload: MasterEvents[K][0]) => L | undefined;
type Table<L> = { readonly [K in keyof MasterEvents]?: Classify<K, L> };

/** Events that end an upgrade, and the `result` each counts as. */
export const UPGRADE_RESULT_OF = {
  'upgrade.succeeded': () => 'succeeded',
  // A rejected upgrade; 'stopping' (the master stopped meanwhile, or was asked while not running) and 'busy'
  // (refused during a self-upgrade) are not results: no new version was tried.
  'upgrade.failed': (p) => (p.reason === 'stopping' || p.reason === 'busy' ? undefined : 'failed'),
  // Went live, then switched back within --rollback-window (it was counted as succeeded when it went live).
  'upgrade.rolled-back': () => 'rolled_back',
} satisfies Table<UpgradeResultLabel>;

/** Events that mean a worker was replaced, and the `reason` each counts as. */
export const RESTART_REASON_OF = {
  // A live worker of the generation in service exited on its own: a crash, replaced with backoff.
  'worker.exited': (p) => (p.expected ? undefined : 'crash'),
  // Replaced before it exited: a hung worker is killed once its replacement is live, a leaking one drains (both exits are expected).
  'worker.hung': () => 'hang',
  'worker.recycled': () => 'memory',
} satisfies Table<RestartReasonLabel>;

/** A worker's state as the `state` label of overseer_workers; undefined: not counted (exited). */
function stateLabel(state: string): WorkerStateLabel | undefined {
  switch (state) {
    case 'starting':
    case 'ready': // has accepted nothing yet
      return 'starting';
    case 'live':
    case 'draining':
    case 'standby':
      return state;
    default:
      return undefined;
  }
}

/** Subscribe the series to `master`; returns them, for the server (server.ts) to serve. */
export function recordMetrics(master: Master, readRss: ReadRss): Series {
  // The last heartbeat's counts of each worker alive.
  const counts = new Map<WorkerHandle, { connections: number; requests: number }>();
  // Per slot, the worker in service: live, of the generation in service.
  const inService = () => master.workers.filter((w) => w.generation === master.currentGeneration && w.state === 'live');
  const series = createSeries({
    workersByState: () => {
      const byState: Record<WorkerStateLabel, number> = { starting: 0, live: 0, draining: 0, standby: 0 };
      for (const worker of master.workers) {
        const label = stateLabel(worker.state);
        if (label) byState[label]++;
      }
      return byState;
    },
    generation: () => master.currentGeneration ?? 0,
    connections: () => inService().flatMap((w) => {
      const last = counts.get(w);
      return last ? [[w.slot, last.connections] as const] : [];
    }),
    // /proc reads, all at once: 64 workers take a few ms (docs/metrics.md).
    memory: async () => {
      const workers = inService();
      const rss = await Promise.all(workers.map((w) => (w.pid === undefined ? undefined : readRss(w.pid))));
      return workers.flatMap((w, i) => (rss[i] === undefined ? [] : [[w.slot, rss[i]] as const]));
    },
  });

  const on = master.on.bind(master) as (event: string, listener: (payload: never) => void) => Master;
  const count = <L extends string>(table: Table<L>, add: (label: L) => void) => {
    for (const [event, classify] of Object.entries(table) as Array<[string, (payload: never) => L | undefined]>) {
      on(event, (payload) => {
        const label = classify(payload);
        if (label !== undefined) add(label);
      });
    }
  };
  count<UpgradeResultLabel>(UPGRADE_RESULT_OF, (result) => series.upgrades.inc({ result }));
  count<RestartReasonLabel>(RESTART_REASON_OF, (reason) => series.restarts.inc({ reason }));
  master.on('upgrade.completed', ({ durationMs }) => series.upgradeDuration.observe(durationMs / 1000));
  master.on('drain.finished', ({ durationMs }) => series.drainDuration.observe(durationMs / 1000));
  master.on('worker.spawned', ({ workerId }) => {
    const worker = master.workers.find((w) => w.id === workerId);
    if (!worker) return;
    worker.on('heartbeat', ({ connections, requests }) => {
      const before = counts.get(worker)?.requests ?? 0;
      if (requests > before) series.requests.inc(requests - before);
      counts.set(worker, { connections, requests: Math.max(requests, before) });
    });
    void worker.exited.then(() => counts.delete(worker));
  });
  return series;
}
