import { describe, expect, it } from 'vitest';
import { HangDetector } from '../../../../src/master/health/hang-detector.js';
import { FakeClock } from '../../../helpers/fakes.js';

function setup(hangTimeoutMs = 4_000) {
  const clock = new FakeClock();
  const hung: Array<[string, number]> = [];
  const recovered: Array<[string, number]> = [];
  const detector = new HangDetector<{ name: string }>({
    hangTimeoutMs,
    clock,
    onHung: (w, ms) => hung.push([w.name, ms]),
    onRecovered: (w, ms) => recovered.push([w.name, ms]),
  });
  return { clock, detector, hung, recovered };
}

describe('HangDetector', () => {
  it('reports a watched worker silent for the timeout, once, within timeout + one sweep', () => {
    const { clock, detector, hung } = setup(4_000);
    const a = { name: 'a' };
    detector.watch(a);
    clock.advance(3_999);
    expect(hung).toEqual([]);
    clock.advance(1_000); // sweeps every min(1000, 4000/4) ms
    expect(hung).toEqual([['a', 4_000]]);
    clock.advance(60_000);
    expect(hung).toHaveLength(1);
  });

  it('heartbeats keep a worker from being reported; silence counts from the last one', () => {
    const { clock, detector, hung } = setup(4_000);
    const a = { name: 'a' };
    const b = { name: 'b' };
    detector.watch(a);
    detector.watch(b);
    for (let i = 0; i < 10; i++) {
      clock.advance(900);
      detector.beat(a);
    }
    expect(hung).toEqual([['b', 4_000]]);
    clock.advance(3_100); // a's last beat was at 9000
    expect(hung).toEqual([['b', 4_000]]);
    clock.advance(1_000);
    expect(hung).toEqual([['b', 4_000], ['a', 4_000]]);
  });

  it('ignores workers it does not watch, and stops watching forgotten ones', () => {
    const { clock, detector, hung } = setup(2_000);
    const a = { name: 'a' };
    detector.beat(a); // not watched: no effect
    detector.watch(a);
    clock.advance(1_000);
    detector.forget(a); // drains: its drain deadline covers it
    clock.advance(10_000);
    expect(hung).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports a beat after the report as a recovery', () => {
    const { clock, detector, hung, recovered } = setup(2_000);
    const a = { name: 'a' };
    detector.watch(a);
    clock.advance(2_000);
    expect(hung).toEqual([['a', 2_000]]);
    clock.advance(1_500);
    detector.beat(a);
    expect(recovered).toEqual([['a', 3_500]]);
    clock.advance(2_000); // hung again: reported again
    expect(hung).toEqual([['a', 2_000], ['a', 2_000]]);
  });

  it('does nothing with a hang timeout of 0', () => {
    const { clock, detector, hung } = setup(0);
    detector.watch({ name: 'a' });
    clock.advance(100_000);
    expect(hung).toEqual([]);
    expect(detector.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
