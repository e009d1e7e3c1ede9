/**
 * The series `--metrics` serves, with the names, types and labels of
 * docs/metrics.md (dashboards rely on them: renaming one is a breaking
 * change). One registry per master, not prom-client's global one, so nothing
 * else loaded in the process can add to it or clash with it.
 *
 * Counters are fed by the master's events (record.ts); gauges are read from
 * the master when Prometheus scrapes (the `collect` callbacks there).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { overseerVersion } from '../../version.js';

export const WORKER_STATES = ['starting', 'live', 'draining', 'standby'] as const;
export type WorkerStateLabel = (typeof WORKER_STATES)[number];
export const UPGRADE_RESULTS = ['succeeded', 'failed', 'rolled_back'] as const;
export type UpgradeResultLabel = (typeof UPGRADE_RESULTS)[number];
export const RESTART_REASONS = ['crash', 'hang', 'memory'] as const;
export type RestartReasonLabel = (typeof RESTART_REASONS)[number];

/** What the gauges read from the master at each scrape (record.ts). */
export interface GaugeSources {
  workersByState(): Readonly<Record<WorkerStateLabel, number>>;
  generation(): number;
  /** Per slot, of the worker in service there. */
  connections(): ReadonlyArray<readonly [slot: number, connections: number]>;
  memory(): Promise<ReadonlyArray<readonly [slot: number, bytes: number]>>;
}

export function createSeries(read: GaugeSources) {
  const registry = new Registry();
  const registers = [registry];
  const series = {
    registry,
    workers: new Gauge({ name: 'overseer_workers', help: 'Workers by state (starting includes ready-but-not-yet-accepting)', labelNames: ['state'] as const, registers,
      collect() {
        for (const [state, n] of Object.entries(read.workersByState())) this.set({ state }, n);
      },
    }),
    generation: new Gauge({
      name: 'overseer_generation', help: 'The generation in service (0 before the first)', registers,
      collect() {
        this.set(read.generation());
      },
    }),
    upgrades: new Counter({ name: 'overseer_upgrades_total', help: 'Upgrades by result', labelNames: ['result'] as const, registers }),
    upgradeDuration: new Histogram({
      name: 'overseer_upgrade_duration_seconds', help: 'Successful upgrades, from the trigger to the old generation gone',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300], registers,
    }),
    drainDuration: new Histogram({
      name: 'overseer_drain_duration_seconds', help: 'Drains, per drained worker, from the drain request to its exit',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120], registers,
    }),
    restarts: new Counter({ name: 'overseer_worker_restarts_total', help: 'Workers replaced by the master, by reason', labelNames: ['reason'] as const, registers }),
    memory: new Gauge({
      name: 'overseer_worker_resident_memory_bytes', help: 'Resident memory of the worker in service in each slot (Linux)', labelNames: ['slot'] as const, registers,
      async collect() {
        const values = await read.memory();
        this.reset(); // a slot without a worker in service has no value, not a stale one
        for (const [slot, bytes] of values) this.set({ slot: String(slot) }, bytes);
      },
    }),
    connections: new Gauge({
      name: 'overseer_worker_connections', help: 'Open connections of the worker in service in each slot, as it counts them (at its last heartbeat)', labelNames: ['slot'] as const, registers,
      collect() {
        this.reset();
        for (const [slot, n] of read.connections()) this.set({ slot: String(slot) }, n);
      },
    }),
    requests: new Counter({ name: 'overseer_requests_total', help: 'HTTP requests (HTTP/2 streams) the workers received, summed by the master from their heartbeats', registers }),
    buildInfo: new Gauge({ name: 'overseer_build_info', help: 'Always 1: the overseer version and the master\'s node', labelNames: ['version', 'node'] as const, registers }),
  };
  // Every label value is there from the first scrape, at 0, so that rate()
  // and absent() behave before the first event of its kind.
  for (const state of WORKER_STATES) series.workers.set({ state }, 0);
  for (const result of UPGRADE_RESULTS) series.upgrades.inc({ result }, 0);
  for (const reason of RESTART_REASONS) series.restarts.inc({ reason }, 0);
  series.requests.inc(0);
  series.buildInfo.set({ version: overseerVersion(), node: process.version }, 1);
  // The master's own process: process_* and nodejs_* (CPU, RSS, fds, event loop lag, heap, GC).
  collectDefaultMetrics({ register: registry });
  return series;
}

export type Series = ReturnType<typeof createSeries>;
