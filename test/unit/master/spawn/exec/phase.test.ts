import { describe, expect, it } from 'vitest';
import { type ExecPhase, IllegalExecTransition, canTransition } from '../../../../../src/master/spawn/exec/phase.js';

const PHASES: readonly ExecPhase[] = ['starting', 'awaiting-ready', 'ready-sent', 'draining', 'exited'];

/** As documented in phase.ts: forward to ready-sent, drain from any phase alive, exit from any. */
const ALLOWED = new Set([
  'starting->awaiting-ready', 'starting->draining', 'starting->exited',
  'awaiting-ready->ready-sent', 'awaiting-ready->draining', 'awaiting-ready->exited',
  'ready-sent->draining', 'ready-sent->exited',
  'draining->exited',
]);

const ALL_PAIRS = PHASES.flatMap((from) => PHASES.map((to) => [from, to] as const));

describe('--exec program phase transitions', () => {
  it('has exactly the documented edges', () => {
    const actual = ALL_PAIRS.filter(([from, to]) => canTransition(from, to)).map(([from, to]) => `${from}->${to}`);
    expect(new Set(actual)).toEqual(ALLOWED);
  });

  it('exited is terminal and ready is sent at most once', () => {
    for (const to of PHASES) expect(canTransition('exited', to)).toBe(false);
    for (const from of PHASES) expect(canTransition(from, 'ready-sent')).toBe(from === 'awaiting-ready');
  });

  it('IllegalExecTransition names both phases', () => {
    expect(new IllegalExecTransition('draining', 'ready-sent').message).toBe('illegal --exec program transition draining -> ready-sent');
  });
});
