/**
 * `--rollback-window` on fake time: the old generation stands by instead of
 * draining; the window passing drains it; a new worker that dies within the
 * window rolls back (the standby workers resume, the new ones drain); a stop
 * wins over a rollback; a second trigger ends the window and upgrades from
 * the new generation.
 */
import { describe, expect, it } from 'vitest';
import type { FakeProcess } from '../../helpers/fakes.js';
import { flush } from '../../helpers/fakes.js';
import { type Harness, harness, startLive } from './master-harness.js';

const WINDOW = 2_000;

/** Answer the worker's pending `type` requests, as its runtime does. */
function ack(proc: FakeProcess, type: string): void {
  for (const message of proc.sentOf(type)) proc.emitMessage({ ovs: 1, type: 'reply', seq: message.seq, ok: true, result: { listeners: 1 } });
}

async function upgradeLive(h: Harness, old: FakeProcess, trigger = 'test'): Promise<{ result: ReturnType<Harness['master']['upgrade']>; fresh: FakeProcess }> {
  const index = h.spawner.procs.length;
  const result = h.master.upgrade(trigger);
  const fresh = await h.spawner.waitForSpawn(index);
  fresh.ready();
  await old.waitForSent('standby');
  ack(old, 'standby');
  return { result, fresh };
}

describe('Master: --rollback-window', () => {
  it('the old generation stands by, then drains when the window passes; the upgrade settles then', async () => {
    const h = harness({ rollbackWindow: WINDOW });
    const [old] = await startLive(h);
    const { result } = await upgradeLive(h, old!);
    expect(old!.sentOf('drain')).toEqual([]);
    expect(h.named('upgrade.window')).toEqual([{ generation: 2, previous: 1, windowMs: WINDOW }]);
    let settled = false;
    void result.then(() => (settled = true));
    h.clock.advance(WINDOW - 1);
    await flush();
    expect(settled).toBe(false);
    h.clock.advance(1);
    expect(await result).toMatchObject({ ok: true, generation: 2 });
    expect(old!.sentOf('drain')).toHaveLength(1);
    expect(h.master.currentGeneration).toBe(2);
  });

  it('a new worker that crashes within the window: the standby workers resume, the new generation drains, rolled-back', async () => {
    const h = harness({ rollbackWindow: WINDOW, workers: 2 });
    const olds = await startLive(h);
    const result = h.master.upgrade('test');
    const fresh = [await h.spawner.waitForSpawn(2), await h.spawner.waitForSpawn(3)];
    for (const p of fresh) p.ready();
    for (const p of olds) {
      await p.waitForSent('standby');
      ack(p, 'standby');
    }
    fresh[0]!.exit(1);
    for (const p of olds) {
      await p.waitForSent('resume');
      ack(p, 'resume');
    }
    const outcome = await result;
    expect(outcome).toMatchObject({ ok: false, generation: 2, reason: 'rolled-back' });
    expect(h.named('upgrade.rolled-back')).toMatchObject([{ generation: 2, current: 1 }]);
    expect(h.master.currentGeneration).toBe(1);
    expect(fresh[1]!.sentOf('drain')).toHaveLength(1);
    for (const p of olds) expect(p.sentOf('drain')).toEqual([]);
    expect(h.master.workers.filter((w) => w.generation === 1).map((w) => w.state)).toEqual(['live', 'live']);
    h.clock.advance(10_000);
    expect(h.named('worker.restart-scheduled').filter((e) => e.generation === 2)).toHaveLength(1); // scheduled at the crash, cancelled by the rollback
    expect(h.spawner.procs).toHaveLength(4);
  });

  it('a rollback racing a stop: the stop wins, nothing resumes, both generations go', async () => {
    const h = harness({ rollbackWindow: WINDOW });
    const [old] = await startLive(h);
    const { result, fresh } = await upgradeLive(h, old!);
    const stopped = h.master.stop();
    fresh.exit(1);
    expect(await result).toMatchObject({ ok: true, generation: 2 });
    expect(old!.sentOf('resume')).toEqual([]);
    expect(old!.sentOf('drain')).toHaveLength(1);
    old!.exit(0);
    await stopped;
    expect(h.named('upgrade.rolled-back')).toEqual([]);
  });

  it('a second trigger during the window ends it (the old generation drains) and upgrades from the new one', async () => {
    const h = harness({ rollbackWindow: WINDOW });
    const [old] = await startLive(h);
    const { result, fresh } = await upgradeLive(h, old!);
    const second = h.master.upgrade('again');
    expect(await result).toMatchObject({ ok: true, generation: 2 });
    expect(old!.sentOf('drain')).toHaveLength(1);
    const third = await h.spawner.waitForSpawn(2);
    third.ready();
    await fresh.waitForSent('standby');
    ack(fresh, 'standby');
    h.clock.advance(WINDOW);
    expect(await second).toMatchObject({ ok: true, generation: 3 });
    expect(fresh.sentOf('drain')).toHaveLength(1);
  });

  it('a standby worker that hangs is killed, and a rollback refills its slot instead of resuming it', async () => {
    const h = harness({ rollbackWindow: 5_000, hangTimeout: 1_000 });
    const [old] = await startLive(h);
    const { result, fresh } = await upgradeLive(h, old!);
    for (let t = 0; t < 5; t++) {
      h.clock.advance(250);
      fresh.emitMessage({ ovs: 1, type: 'heartbeat', connections: 0, requests: 0 }); // the new one beats; the standby one is silent
    }
    await flush();
    expect(h.named('worker.hung')).toMatchObject([{ generation: 1, pid: old!.pid }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(old!.signals).toEqual(['SIGKILL']);
    expect(h.named('upgrade.rolled-back')).toEqual([]);
    fresh.exit(1);
    const outcome = await result;
    expect(outcome).toMatchObject({ ok: false, reason: 'rolled-back' });
    expect(old!.sentOf('resume')).toEqual([]);
    const refill = await h.spawner.waitForSpawn(2);
    expect(refill.spec.env.OVERSEER_GENERATION).toBe('1');
  });
});
