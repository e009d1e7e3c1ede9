/**
 * A worker's lifecycle. Every transition goes through `transition()`, which
 * rejects edges not in the table (a bug, so it throws).
 *
 *   starting ──ready──▶ ready ──activate──▶ live ──drain──▶ draining
 *      │                  │                   │                │
 *      └──────────────────┴───────exit────────┴────────────────┴──▶ exited
 *
 * A live worker of a generation an upgrade replaced may stand by for
 * `--rollback-window` (live → standby), then accept again (standby → live,
 * a rollback) or drain (standby → draining).
 *
 * `starting` and `ready` workers have accepted nothing (their listeners are
 * held back), so they may be killed at any time without losing a request.
 */
export type WorkerState = 'starting' | 'ready' | 'live' | 'standby' | 'draining' | 'exited';

const EDGES: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: ['ready', 'exited'],
  ready: ['live', 'exited'],
  live: ['standby', 'draining', 'exited'],
  // --rollback-window: the old generation stands by (not accepting, code loaded), then resumes (a rollback) or drains.
  standby: ['live', 'draining', 'exited'],
  draining: ['exited'],
  exited: [],
};

export function canTransition(from: WorkerState, to: WorkerState): boolean {
  return EDGES[from].includes(to);
}

export class IllegalTransition extends Error {
  constructor(from: WorkerState, to: WorkerState) {
    super(`illegal worker transition ${from} -> ${to}`);
  }
}
