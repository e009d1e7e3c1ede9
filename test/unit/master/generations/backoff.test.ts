import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../../src/master/generations/backoff.js';

describe('Backoff', () => {
  it('doubles from base up to max', () => {
    const backoff = new Backoff(100, 1_000, 30_000);
    const delays = Array.from({ length: 7 }, () => backoff.next(0));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    expect(backoff.failures).toBe(7);
  });

  it('starts with no failures', () => {
    expect(new Backoff(100, 1_000, 30_000).failures).toBe(0);
  });

  it('resets after an uptime of at least resetAfterMs, not before', () => {
    const backoff = new Backoff(100, 1_000, 30_000);
    backoff.next(0);
    backoff.next(0);
    expect(backoff.next(29_999)).toBe(400);
    expect(backoff.next(30_000)).toBe(100);
    expect(backoff.failures).toBe(1);
    expect(backoff.next(0)).toBe(200);
  });

  it('stays at max however many failures (no overflow to Infinity or NaN)', () => {
    const backoff = new Backoff(100, 15_000, 30_000);
    let last = 0;
    for (let i = 0; i < 2_000; i++) last = backoff.next(0);
    expect(last).toBe(15_000);
  });

  it('never exceeds max even when base is larger', () => {
    expect(new Backoff(500, 200, 30_000).next(0)).toBe(200);
  });
});
