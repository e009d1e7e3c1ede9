/** The bring-up pipeline on its own, with fake processes and fake time: the activate deadline, and what a failure leaves behind. */
import { describe, expect, it, vi } from 'vitest';
import { ACTIVATE_TIMEOUT_MS } from '../../../../src/master/bring-up/activate.js';
import { type BringUpOutcome, bringUp } from '../../../../src/master/bring-up/bring-up.js';
import { WorkerHandle } from '../../../../src/master/workers/worker-handle.js';
import { FakeClock, FakeSpawner, fakeOutlets, flush } from '../../../helpers/fakes.js';

vi.setConfig({ testTimeout: 5_000 });

function setup() {
  const spawner = new FakeSpawner(); // no auto-ack: each test acks (or not) by hand
  const clock = new FakeClock();
  const { outlets } = fakeOutlets();
  const ctx = { clock, options: { readyTimeoutMs: 60_000, waitReady: false }, stopSignal: new AbortController().signal, held: () => [] };
  const spawn = () => {
    const proc = spawner.spawn({ script: 'app.js', args: [], cwd: '/', env: {}, nodeArgs: [] });
    return new WorkerHandle(proc, { id: spawner.procs.length, generation: 1, slot: 0 }, {
      clock, output: outlets, acquire: () => Promise.reject(new Error('unused')),
    });
  };
  return { spawner, clock, ctx, spawn };
}

describe('bringUp', () => {
  it('brings a ready worker live once it confirms it accepts', async () => {
    const { spawner, ctx, spawn } = setup();
    const outcome = bringUp(ctx, { spawns: [spawn] });
    spawner.proc(0).ready();
    await spawner.proc(0).waitForSent('activate');
    spawner.proc(0).ackActivate();
    const result = await outcome;
    expect(result.ok).toBe(true);
    expect(result.ok && result.workers.map((w) => w.state)).toEqual(['live']);
    expect(spawner.proc(0).signals).toEqual([]);
  });

  it('fails with activate-failed exactly at the activate deadline on the injected clock, and kills the worker after abandon()', async () => {
    const { spawner, clock, ctx, spawn } = setup();
    const order: string[] = [];
    let settled: BringUpOutcome | undefined;
    void bringUp(ctx, { spawns: [spawn], abandon: () => order.push(`abandon, signals: ${spawner.proc(0).signals.length}`) })
      .then((r) => (settled = r));
    spawner.proc(0).ready();
    await spawner.proc(0).waitForSent('activate');
    clock.advance(ACTIVATE_TIMEOUT_MS - 1);
    await flush();
    expect(settled).toBeUndefined();
    clock.advance(1);
    await vi.waitFor(() => expect(settled).toBeDefined());
    expect(settled).toMatchObject({ ok: false, reason: 'activate-failed', message: expect.stringMatching(/within 5000 ms/) });
    expect(order).toEqual(['abandon, signals: 0']);
    expect(spawner.proc(0).signals).toEqual(['SIGKILL']);
  });

  it('reports a spawn that throws as spawn-failed and kills the workers spawned before it', async () => {
    const { spawner, ctx, spawn } = setup();
    const result = await bringUp(ctx, { spawns: [spawn, () => { throw new Error('E2BIG'); }] });
    expect(result).toMatchObject({ ok: false, reason: 'spawn-failed', message: 'cannot start a worker: E2BIG', worker: undefined });
    expect(spawner.proc(0).signals).toEqual(['SIGKILL']);
  });
});
