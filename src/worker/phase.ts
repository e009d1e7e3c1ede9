/**
 * The worker runtime's lifecycle (runtime.ts), one phase at a time. Every
 * change goes through the runtime's `#enter()`, which checks this table; an
 * edge not in it is a bug, so it throws (`IllegalTransition`).
 *
 *   booting ──ready──▶ ready-sent ──activate──▶ live ◀──resume── standby
 *      │   ╲───────activate────────────────────▶ │ ───standby──▶   │
 *      │                  │                      │                 │
 *      └──────────────────┴───drain (or signal)──┴─────────────────┴──▶ draining
 *   every phase ──exit──▶ exited
 *
 * - `booting`: listens may be pending; nothing is accepted (held back).
 * - `ready-sent`: `ready` went to the master; still nothing is accepted.
 * - `live`: `activate` came; the listeners accept.
 * - `standby`: a warm rollback window: not accepting, no hook run, kept
 *   alive to `resume` (back to `live`) or to finish with a drain.
 * - `draining`: stopped accepting, hooks running, exits once idle.
 * - `exited`: `exit()` was called.
 * `booting → live` is there because the worker obeys an `activate` whatever
 * came before; the master sends it only after `ready`.
 */
export type WorkerPhase = 'booting' | 'ready-sent' | 'live' | 'standby' | 'draining' | 'exited';

const EDGES: Readonly<Record<WorkerPhase, readonly WorkerPhase[]>> = {
  booting: ['ready-sent', 'live', 'draining', 'exited'],
  'ready-sent': ['live', 'draining', 'exited'],
  live: ['standby', 'draining', 'exited'],
  standby: ['live', 'draining', 'exited'],
  draining: ['exited'],
  exited: [],
};

export function canTransition(from: WorkerPhase, to: WorkerPhase): boolean {
  return EDGES[from].includes(to);
}

export class IllegalTransition extends Error {
  constructor(from: WorkerPhase, to: WorkerPhase) {
    super(`illegal worker phase transition ${from} -> ${to}`);
  }
}
