/** The gate a successor's first workers wait at (hold-back.ts). */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { HoldBack } from '../../../../src/master/succession/hold-back.js';
import type { WorkerHandle } from '../../../../src/master/workers/worker-handle.js';
import { flush } from '../../../helpers/fakes.js';

function worker(): WorkerHandle & { die(): void } {
  let die!: () => void;
  const exited = new Promise<void>((resolve) => (die = resolve));
  return Object.assign(new EventEmitter(), { exited, die }) as unknown as WorkerHandle & { die(): void };
}

describe('HoldBack', () => {
  it('holds workers until opened, and says allHeld once, when enough live ones wait', async () => {
    let held = 0;
    const gate = new HoldBack(2, () => held++);
    const signal = new AbortController().signal;
    const [a, b, c] = [worker(), worker(), worker()];
    let released = 0;
    void gate.wait([a], signal).then(() => released++);
    a.die(); // the first one dies while it waits: it no longer counts
    await flush();
    void gate.wait([b], signal).then(() => released++);
    expect(held).toBe(0);
    void gate.wait([c], signal).then(() => released++);
    expect(held).toBe(1);
    await flush();
    expect(released).toBe(0);
    gate.open();
    await flush();
    expect(released).toBe(3);
    // After the take-over nobody waits, and allHeld is not said again.
    await gate.wait([worker(), worker()], signal);
    expect(held).toBe(1);
  });

  it('lets waiting workers go when the master stops', async () => {
    const gate = new HoldBack(1, () => {});
    const stop = new AbortController();
    const waiting = gate.wait([worker()], stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(gate.opened).toBe(false);
  });
});
