/** The bring-up pipeline on its own, with fake processes and fake time: the activate deadline, and what a failure leaves behind. */
import { describe, expect, it, vi } from 'vitest';
import { ACTIVATE_TIMEOUT_MS } from '../../../../src/master/bring-up/activate.js';
import { type BringUpOutcome, MAX_RESPAWNS, RESPAWN_DELAY_MS, bringUp } from '../../../../src/master/bring-up/bring-up.js';
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

  describe('a starting worker killed by a signal meant for the master (systemctl kill -s HUP reaches the new workers too)', () => {
    async function killedAtStart(signal: NodeJS.Signals, index: number, clock: FakeClock, spawner: FakeSpawner) {
      await vi.waitFor(() => expect(spawner.procs.length).toBeGreaterThan(index));
      spawner.proc(index).exit(null, signal);
      await flush();
      clock.advance(RESPAWN_DELAY_MS);
    }

    it('is spawned again for its slot, and the bring-up goes on within the same deadline', async () => {
      const { spawner, clock, ctx, spawn } = setup();
      const respawned: string[] = [];
      const outcome = bringUp({ ...ctx, respawned: (killed, signal, replacement) => respawned.push(`${killed.pid} ${signal} -> ${replacement.pid}`) }, { spawns: [spawn] });
      await killedAtStart('SIGHUP', 0, clock, spawner);
      await vi.waitFor(() => expect(spawner.procs.length).toBe(2));
      spawner.proc(1).ready();
      await spawner.proc(1).waitForSent('activate');
      spawner.proc(1).ackActivate();
      const result = await outcome;
      expect(result.ok).toBe(true);
      expect(respawned).toEqual([`${spawner.proc(0).pid} SIGHUP -> ${spawner.proc(1).pid}`]);
    });

    it(`gives up after ${MAX_RESPAWNS} respawns, as exited-before-ready`, async () => {
      const { spawner, clock, ctx, spawn } = setup();
      const outcome = bringUp(ctx, { spawns: [spawn] });
      for (let i = 0; i <= MAX_RESPAWNS; i++) await killedAtStart('SIGUSR2', i, clock, spawner);
      expect(await outcome).toMatchObject({ ok: false, reason: 'exited-before-ready', signal: 'SIGUSR2' });
      expect(spawner.procs.length).toBe(MAX_RESPAWNS + 1);
    });

    it('is not respawned for a signal the master sends itself (SIGTERM, SIGKILL): that is a failed start', async () => {
      const { spawner, clock, ctx, spawn } = setup();
      const outcome = bringUp(ctx, { spawns: [spawn] });
      await killedAtStart('SIGTERM', 0, clock, spawner);
      expect(await outcome).toMatchObject({ ok: false, reason: 'exited-before-ready', signal: 'SIGTERM' });
      expect(spawner.procs.length).toBe(1);
    });
  });
});
