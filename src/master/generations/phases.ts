/**
 * The phase times of an upgrade (docs/upgrade.md): for each new worker, how
 * long after the trigger it was spawned, had its first socket, was ready and
 * was live; for the generation, when its last worker got to each phase. The
 * gap between `listening` and `ready` is the app's own start-up; the rest
 * (spawned, ready → live) is overseer's.
 */
import type { PhaseTimes, UpgradePhases } from '../../ipc/control.js';
import type { WorkerHandle } from '../workers/worker-handle.js';

type Timed = Pick<WorkerHandle, 'pid' | 'slot' | 'spawnedAt' | 'listeningAt' | 'readyAt' | 'liveAt'>;

export function upgradePhases(workers: readonly Timed[], started: number): UpgradePhases | undefined {
  if (workers.length === 0) return undefined;
  const since = (at: number | undefined) => (at === undefined ? null : Math.round(at - started));
  const times = (w: Timed): PhaseTimes => ({ spawned: since(w.spawnedAt)!, listening: since(w.listeningAt), ready: since(w.readyAt), live: since(w.liveAt) });
  const all = workers.map(times);
  const last = (key: keyof PhaseTimes) => {
    const values = all.map((t) => t[key]);
    return values.some((v) => v === null) ? null : Math.max(...(values as number[]));
  };
  let slowest = 0;
  all.forEach((t, i) => {
    if ((t.live ?? Infinity) > (all[slowest]!.live ?? Infinity)) slowest = i;
  });
  const worker = workers[slowest]!;
  return {
    generation: { spawned: last('spawned')!, listening: last('listening'), ready: last('ready'), live: last('live') },
    slowest: { pid: worker.pid, slot: worker.slot, ...all[slowest]! },
  };
}
