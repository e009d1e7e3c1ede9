/** Public API: run a master from code (the CLI is a thin layer over this). */
export { Master, type MasterDeps, type MasterState } from './master/master.js';
export type { MasterEvents, UpgradeResult, WorkerFacts } from './master/events.js';
export { parseStartOptions, DEFAULTS, type MasterOptions, type RawStartOptions } from './master/options/options.js';
export type { Spawner, SpawnSpec, WorkerProcess } from './master/spawn/spawner.js';
export { forkSpawner, osSpawner } from './master/spawn/os-spawner.js';
export { systemClock, type Clock } from './clock.js';
export type { ListenAddress } from './ipc/address.js';
export * from './errors.js';
