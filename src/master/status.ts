/**
 * `overseer status`: a snapshot of the master built from what it already
 * tracks, plus each process's resident memory read from /proc (Linux; null
 * elsewhere). Reading /proc/<pid>/status is a few microseconds per worker.
 */
import { formatAddress } from '../ipc/address.js';
import type { MasterStatus, WorkerStatus } from '../ipc/control.js';
import { overseerVersion } from '../version.js';
import type { HeldListener } from './sockets/listeners.js';
import type { WorkerHandle } from './workers/worker-handle.js';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** What a status snapshot reads of the master (the Master is one). */
export interface StatusSource {
  readonly pid: number;
  readonly options: { readonly name: string; readonly maxMemoryBytes: number };
  readonly state: string;
  readonly startedAt: number | undefined;
  readonly currentGeneration: number | undefined;
  readonly workers: readonly WorkerHandle[];
  readonly held: { readonly all: readonly HeldListener[] };
  readonly upgrading: boolean;
  readonly lastUpgrade: MasterStatus['lastUpgrade'] | undefined;
}

export function rssOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export function masterStatus(master: StatusSource, now: number): MasterStatus {
  const current = master.currentGeneration;
  const describe = (w: WorkerHandle): WorkerStatus => ({
    workerId: w.id,
    generation: w.generation,
    slot: w.slot,
    pid: w.pid,
    state: w.state,
    uptimeMs: Math.round(now - w.spawnedAt),
    restarts: w.restarts,
    rssBytes: rssOf(w.pid),
  });
  const workers = master.workers.filter((w) => w.state !== 'exited');
  const last = master.lastUpgrade;
  return {
    pid: master.pid,
    name: master.options.name,
    version: overseerVersion(),
    node: process.version,
    state: master.state,
    uptimeMs: Math.round(now - (master.startedAt ?? now)),
    rssBytes: process.memoryUsage.rss(),
    maxMemoryBytes: master.options.maxMemoryBytes > 0 ? master.options.maxMemoryBytes : null,
    listeners: master.held.all.map((l) => formatAddress(l.address)),
    generation: current,
    workers: workers.filter((w) => w.generation === current && w.state !== 'draining').map(describe),
    // A newer generation that drains was rolled back (--rollback-window): it is listed as draining.
    starting: workers.filter((w) => current !== undefined && w.generation > current && w.state !== 'draining').map(describe),
    // Standby workers (--rollback-window) are listed here with their state.
    draining: workers.filter((w) => w.state === 'draining' || (current !== undefined && w.generation < current)).map(describe),
    upgrading: master.upgrading,
    lastUpgrade: last ?? null,
  };
}
