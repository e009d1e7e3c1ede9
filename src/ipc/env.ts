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
  /** Heartbeat interval in ms (heartbeat.ts); absent or `0`: no heartbeat (`--hang-timeout 0`). */
  heartbeat: 'OVERSEER_HEARTBEAT_MS',
  /** With `--hang-stack`: the hang timeout in ms, after which a watchdog thread logs the blocked stack (hang-stack.ts). */
  hangStack: 'OVERSEER_HANG_STACK_MS',
} as const;

/**
 * The heartbeat interval for a hang timeout: four beats per timeout, so a
 * late timer or a GC pause of up to three quarters of it is not a hang, and
 * at most one a second, so the master handles at most one message per worker
 * per second (measured in docs/self-healing.md). 0 (detection off): none.
 */
export function heartbeatIntervalMs(hangTimeoutMs: number): number {
  return hangTimeoutMs > 0 ? Math.max(1, Math.min(1_000, Math.floor(hangTimeoutMs / 4))) : 0;
}
