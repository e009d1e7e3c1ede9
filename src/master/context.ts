/**
 * What the master lends to the pieces that act for it (generations/restart.ts, run-upgrade.ts,
 * generation.ts, and bring-up.ts through them): its options, clock, stop signal, a way to spawn a worker
 * and a way to report facts. They hold no state of the master's.
 */
import type { ListenAddress } from '../ipc/address.js';
import type { Clock } from '../clock.js';
import type { MasterEvents } from './events.js';
import type { Generation, Slot } from './generations/generation.js';
import type { MasterOptions } from './options/options.js';
import type { WorkerHandle } from './workers/worker-handle.js';

export interface MasterContext {
  readonly options: MasterOptions;
  readonly clock: Clock;
  /** Aborted when the master starts stopping. */
  readonly stopSignal: AbortSignal;
  /** True while the master is running (not starting, not stopping). */
  running(): boolean;
  spawn(generation: Generation, slot: Slot): WorkerHandle;
  emit<K extends keyof MasterEvents>(event: K, ...args: MasterEvents[K]): void;
  /** The addresses the master holds now (`--listen` first), to say where a worker that never got ready should have listened. */
  held(): readonly ListenAddress[];
  /** A starting worker killed by a signal meant for the master was spawned again (bring-up.ts). */
  respawned(killed: WorkerHandle, signal: string, replacement: WorkerHandle): void;
  /** A slot's worker of an in-service generation became live. */
  slotLive(generation: Generation): void;
  /** A successor's first workers wait here before they are activated (bring-up.ts); undefined: no wait. */
  holdBack(workers: readonly WorkerHandle[]): Promise<void> | undefined;
}
