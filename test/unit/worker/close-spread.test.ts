/**
 * CloseSpread: each connection's moment, drawn once in [start, start + window),
 * the window capped at half the drain deadline.
 */
import { describe, expect, it } from 'vitest';
import { CloseSpread } from '../../../src/worker/close-spread.js';

describe('CloseSpread', () => {
  it('gives each connection one moment within the window, kept once drawn', () => {
    const draws = [0, 0.5, 0.999];
    const spread = new CloseSpread({ closeSpreadMs: 2_000, drainTimeoutMs: 30_000 }, () => draws.shift()!);
    spread.start(10_000);
    const [a, b, c] = [{}, {}, {}];
    expect([spread.delay(a, 10_000), spread.delay(b, 10_000), spread.delay(c, 10_000)]).toEqual([0, 1_000, 1_998]);
    expect(spread.delay(b, 10_400)).toBe(600); // the same moment, not a new draw
    expect([spread.due(b, 10_999), spread.due(b, 11_000)]).toEqual([false, true]);
  });

  it('is never due before the drain started, and due at once with a window of 0', () => {
    const spread = new CloseSpread({ closeSpreadMs: 0, drainTimeoutMs: 30_000 });
    const connection = {};
    expect(spread.due(connection)).toBe(false);
    spread.start();
    expect(spread.due(connection)).toBe(true);
  });

  it('caps the window at half the drain deadline', () => {
    expect(new CloseSpread({ closeSpreadMs: 2_000, drainTimeoutMs: 1_000 }).windowMs).toBe(500);
    expect(new CloseSpread({ closeSpreadMs: 2_000, drainTimeoutMs: 30_000 }).windowMs).toBe(2_000);
  });
});
