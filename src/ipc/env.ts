/**
 * The environment contract between the master and the code it preloads into
 * workers. Every variable has one prefix; the worker runtime reads them once
 * and deletes them, so processes the app spawns do not inherit them.
 */
export const ENV = {
  /** Set (to the worker id) only in processes the master forked. */
  workerId: 'OVERSEER_WORKER_ID',
  generation: 'OVERSEER_GENERATION',
  /** `1` when the app must say ready itself (`--wait-ready`). */
  waitReady: 'OVERSEER_WAIT_READY',
  /** Drain deadline the worker enforces on itself if the master is gone. */
  drainTimeout: 'OVERSEER_DRAIN_TIMEOUT',
  /** `--close-spread` in ms. */
  closeSpread: 'OVERSEER_CLOSE_SPREAD',
  /** `0` with `--no-websocket-close`. */
  websocketClose: 'OVERSEER_WEBSOCKET_CLOSE',
  name: 'OVERSEER_NAME',
} as const;

