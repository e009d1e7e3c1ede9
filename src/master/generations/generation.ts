/**
 * A generation: `--workers` slots started from the same version of the app.
 * Each slot holds its current worker and its own crash backoff.
 */
import { Backoff } from './backoff.js';
import type { MasterOptions } from '../options/options.js';
import type { WorkerHandle } from '../workers/worker-handle.js';

export interface Slot {
  readonly index: number;
  readonly backoff: Backoff;
  /** Crash replacements started in this slot so far. */
  restarts: number;
  worker: WorkerHandle | undefined;
  cancelRestart: (() => void) | undefined;
}

export interface Generation {
  readonly number: number;
  readonly slots: readonly Slot[];
  /** Out of service: no restarts; set before its workers are told to go. */
  retired: boolean;
}

export function createGeneration(number: number, options: MasterOptions): Generation {
  return {
    number,
    retired: false,
    slots: Array.from({ length: options.workers }, (_, index) => ({
      index,
      backoff: new Backoff(options.restartDelayMs, options.restartDelayMaxMs, options.restartResetMs),
      restarts: 0,
      worker: undefined,
      cancelRestart: undefined,
    })),
  };
}

export function isAllLive(generation: Generation): boolean {
  return generation.slots.every((s) => s.worker?.state === 'live');
}

/** Keys of every listener the generation's live workers accept on. */
export function servingKeys(generation: Generation | undefined): Set<string> {
  const keys = new Set<string>();
  for (const slot of generation?.slots ?? []) {
    if (slot.worker?.state === 'live') for (const key of slot.worker.listenerKeys) keys.add(key);
  }
  return keys;
}
