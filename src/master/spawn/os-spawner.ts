/**
 * The real spawner: the one place where a spawn becomes a Node fork or an
 * `--exec` program (the master sets `spec.exec` from `--exec`). The clock
 * decides an `--exec` program's ready delay, so it is injected here too.
 */
import { type Clock, systemClock } from '../../clock.js';
import { spawnExec } from './exec/spawn.js';
import { forkNode } from './fork.js';
import type { Spawner } from './spawner.js';

export function osSpawner(clock: Clock): Spawner {
  return { spawn: (spec) => (spec.exec ? spawnExec(spec, spec.exec, clock) : forkNode(spec)) };
}

/** The real spawner on the system clock (the public API's name for it). */
export const forkSpawner: Spawner = osSpawner(systemClock);
