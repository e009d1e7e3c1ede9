import { describe, expect, it } from 'vitest';
import { RecycleGate } from '../../../../src/master/health/recycle-gate.js';
import { FakeClock, flush } from '../../../helpers/fakes.js';

/** A task the test finishes by hand; records when it started. */
function manual(log: string[], name: string) {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const task = () => {
    log.push(`start ${name}`);
    return new Promise<void>((resolve, reject) => {
      finish = () => {
        log.push(`end ${name}`);
        resolve();
      };
      fail = reject;
    });
  };
  return { task, finish: () => finish(), fail: (e: Error) => fail(e) };
}

function setup(draws: number[] = [0.5]) {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  let i = 0;
  const gate = new RecycleGate<string>({ clock, jitterMs: 1_000, random: () => draws[i++ % draws.length]!, onError: (_k, e) => errors.push(e) });
  return { clock, gate, errors };
}

describe('RecycleGate', () => {
  it('runs one task at a time, each after its jitter', async () => {
    const { clock, gate } = setup([0.5, 0.25]);
    const log: string[] = [];
    const a = manual(log, 'a');
    const b = manual(log, 'b');
    expect(gate.admit('a', a.task)).toBe(true);
    expect(gate.admit('b', b.task)).toBe(true);
    clock.advance(499);
    await flush();
    expect(log).toEqual([]);
    clock.advance(1);
    await flush();
    expect(log).toEqual(['start a']);
    expect(gate.running).toBe('a');
    clock.advance(10_000); // b waits for a, however long a takes
    await flush();
    expect(log).toEqual(['start a']);
    a.finish();
    await flush();
    clock.advance(249);
    await flush();
    expect(log).toEqual(['start a', 'end a']);
    clock.advance(1);
    await flush();
    expect(log).toEqual(['start a', 'end a', 'start b']);
    b.finish();
    await flush();
    expect(gate.running).toBeUndefined();
  });

  it('does not queue a key twice, and goes on after a task fails', async () => {
    const { clock, gate, errors } = setup([0]);
    const log: string[] = [];
    const a = manual(log, 'a');
    const b = manual(log, 'b');
    expect(gate.admit('a', a.task)).toBe(true);
    expect(gate.admit('a', a.task)).toBe(false);
    clock.advance(0);
    await flush();
    expect(gate.admit('a', a.task)).toBe(false); // running
    gate.admit('b', b.task);
    a.fail(new Error('bringUp failed'));
    await flush();
    clock.advance(0);
    await flush();
    expect(errors).toEqual([new Error('bringUp failed')]);
    expect(log).toEqual(['start a', 'start b']);
  });

  it('drops a cancelled task, even in its jitter delay', async () => {
    const { clock, gate } = setup([0.9, 0.1]);
    const log: string[] = [];
    gate.admit('a', manual(log, 'a').task);
    gate.admit('b', manual(log, 'b').task);
    expect(gate.cancel('a')).toBe(true); // in its delay: b gets a new one
    clock.advance(100);
    await flush();
    expect(log).toEqual(['start b']);
    expect(gate.cancel('b')).toBe(false); // started
  });

  it('runs nothing more once closed', async () => {
    const { clock, gate } = setup([0]);
    const log: string[] = [];
    gate.admit('a', manual(log, 'a').task);
    gate.close();
    clock.advance(5_000);
    await flush();
    expect(log).toEqual([]);
    expect(gate.admit('b', manual(log, 'b').task)).toBe(false);
  });
});
