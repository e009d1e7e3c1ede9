import { describe, expect, it } from 'vitest';
import { IllegalTransition, type WorkerState, canTransition } from '../../../../src/master/workers/worker-state.js';

const STATES: readonly WorkerState[] = ['starting', 'ready', 'live', 'draining', 'exited'];

/** The lifecycle as documented: forward along starting → ready → live → draining, and exit from anywhere alive. */
const ALLOWED = new Set([
  'starting->ready', 'starting->exited',
  'ready->live', 'ready->exited',
  'live->draining', 'live->exited',
  'draining->exited',
]);

const ALL_PAIRS = STATES.flatMap((from) => STATES.map((to) => [from, to] as const));

describe('worker state transitions', () => {
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

  it('exited is terminal and nothing goes back to starting', () => {
    for (const to of STATES) expect(canTransition('exited', to)).toBe(false);
    for (const from of STATES) expect(canTransition(from, 'starting')).toBe(false);
  });

  it('IllegalTransition names both states', () => {
    const error = new IllegalTransition('draining', 'live');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('illegal worker transition draining -> live');
  });
});
