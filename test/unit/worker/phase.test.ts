import { describe, expect, it } from 'vitest';
import { IllegalTransition, type WorkerPhase, canTransition } from '../../../src/worker/phase.js';

const PHASES: readonly WorkerPhase[] = ['booting', 'ready-sent', 'live', 'standby', 'draining', 'exited'];

/** The lifecycle as documented in phase.ts: forward to live, live ⇄ standby, drain from any phase alive, exit from any. */
const ALLOWED = new Set([
  'booting->ready-sent', 'booting->live', 'booting->draining', 'booting->exited',
  'ready-sent->live', 'ready-sent->draining', 'ready-sent->exited',
  'live->standby', 'live->draining', 'live->exited',
  'standby->live', 'standby->draining', 'standby->exited',
  'draining->exited',
]);

const ALL_PAIRS = PHASES.flatMap((from) => PHASES.map((to) => [from, to] as const));

describe('worker runtime phase transitions', () => {
  it.each(ALL_PAIRS.filter(([from, to]) => ALLOWED.has(`${from}->${to}`)))('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(ALL_PAIRS.filter(([from, to]) => !ALLOWED.has(`${from}->${to}`)))('rejects %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it('has exactly the documented edges', () => {
    const actual = ALL_PAIRS.filter(([from, to]) => canTransition(from, to)).map(([from, to]) => `${from}->${to}`);
    expect(new Set(actual)).toEqual(ALLOWED);
  });

  it('exited is terminal, draining only ends, and nothing goes back to booting', () => {
    for (const to of PHASES) expect(canTransition('exited', to)).toBe(false);
    for (const to of PHASES) expect(canTransition('draining', to)).toBe(to === 'exited');
    for (const from of PHASES) expect(canTransition(from, 'booting')).toBe(false);
  });

  it('IllegalTransition names both phases', () => {
    const error = new IllegalTransition('draining', 'live');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('illegal worker phase transition draining -> live');
  });
});
