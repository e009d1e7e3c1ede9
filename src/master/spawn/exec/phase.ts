/**
 * An `--exec` program's lifecycle as its adapter (process.ts) sees it. Every
 * change goes through the adapter's `#enter()`, which checks this table; an
 * edge not in it is a bug, so it throws (`IllegalExecTransition`).
 *
 *   starting ──listens sent──▶ awaiting-ready ──ready sent──▶ ready-sent
 *   every phase but exited ──drain──▶ draining
 *   every phase ──exit (or no pid: the spawn failed)──▶ exited
 *
 * - `starting`: spawned; the `listen` requests go out on the next tick.
 * - `awaiting-ready`: waiting for every `listen` reply and for `READY=1` (or
 *   the ready delay); `READY=1` may come first, so it is kept as a fact.
 * - `ready-sent`: `ready` went to the master, once.
 * - `draining`: SIGTERM sent, SIGKILL at the deadline.
 * - `exited`: the program is gone; nothing more is translated.
 * The master drains only a live worker, so `draining` follows `ready-sent`;
 * an earlier `drain` is obeyed all the same (SIGTERM), and no `ready` follows it.
 */
export type ExecPhase = 'starting' | 'awaiting-ready' | 'ready-sent' | 'draining' | 'exited';

const EDGES: Readonly<Record<ExecPhase, readonly ExecPhase[]>> = {
  starting: ['awaiting-ready', 'draining', 'exited'],
  'awaiting-ready': ['ready-sent', 'draining', 'exited'],
  'ready-sent': ['draining', 'exited'],
  draining: ['exited'],
  exited: [],
};

export function canTransition(from: ExecPhase, to: ExecPhase): boolean {
  return EDGES[from].includes(to);
}

export class IllegalExecTransition extends Error {
  constructor(from: ExecPhase, to: ExecPhase) {
    super(`illegal --exec program transition ${from} -> ${to}`);
  }
}
