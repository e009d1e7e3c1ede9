/**
 * The Master's side of `overseer upgrade --self` on the fakes: one at a time,
 * app upgrades refused meanwhile, a replaced master drains and keeps its
 * sockets and PID file, a stop waits for the successor to be stopped; and a
 * successor master's first generation held back until it takes over.
 */
import { describe, expect, it } from 'vitest';
import type { SelfUpgradeOutcome } from '../../../src/ipc/control.js';
import { HoldBack } from '../../../src/master/succession/hold-back.js';
import { Master } from '../../../src/master/master.js';
import { parseStartOptions } from '../../../src/master/options/options.js';
import { FakeClock, FakeSpawner, fakeOutlets } from '../../helpers/fakes.js';
import { flush, harness, nextEvent, startLive } from './master-harness.js';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

/** A self-upgrader the test settles by hand; it also settles `stopping` when the master aborts it. */
function pendingUpgrader() {
  let settle!: (outcome: SelfUpgradeOutcome) => void;
  let aborted = false;
  const upgrader = (_request: unknown, signal: AbortSignal) => new Promise<SelfUpgradeOutcome>((resolve) => {
    settle = resolve;
    signal.addEventListener('abort', () => {
      aborted = true;
    });
  });
  return { upgrader, settle: (o: SelfUpgradeOutcome) => settle(o), get aborted() { return aborted; } };
}

describe('Master: self-upgrade', () => {
  it('runs one at a time, refuses app upgrades meanwhile, and goes on as before when it fails', async () => {
    const h = harness();
    await startLive(h);
    const pending = pendingUpgrader();
    h.master.enableSelfUpgrade(pending.upgrader);
    const first = h.master.upgradeSelf({});
    expect(await h.master.upgradeSelf({})).toMatchObject({ ok: false, reason: 'busy', message: 'a self-upgrade is running; try again once it is done' });
    expect(await h.master.upgrade('SIGHUP')).toMatchObject({ ok: false, reason: 'busy' });
    expect(h.spawner.procs).toHaveLength(1); // no new generation was started
    pending.settle({ ok: false, reason: 'exited', message: 'gone', durationMs: 5 });
    expect(await first).toMatchObject({ ok: false, reason: 'exited' });
    // Back to normal: an upgrade runs.
    const upgraded = h.master.upgrade('SIGHUP');
    await flush();
    h.spawner.procs[1]!.ready();
    expect(await upgraded).toMatchObject({ ok: true });
  });

  it('once replaced, drains its workers and stops without STOPPING its sockets or PID file (replacedBy)', async () => {
    const h = harness();
    const [worker] = await startLive(h);
    const pending = pendingUpgrader();
    h.master.enableSelfUpgrade(pending.upgrader);
    const replaced = h.master.upgradeSelf({});
    pending.settle({ ok: true, pid: 777, previousPid: 12345, generation: 2, version: 'x', node: 'v', durationMs: 9 });
    expect(await replaced).toMatchObject({ ok: true, pid: 777 });
    expect(h.master.replaced).toBe(true);
    expect(h.named('master.stopping')).toEqual([{ reason: 'replaced by master 777', graceful: true, replacedBy: 777 }]);
    expect(await h.master.upgradeSelf({})).toMatchObject({ ok: false, reason: 'not-running' });
    const stopped = nextEvent(h.master, 'master.stopped');
    worker!.exit(0);
    await stopped;
  });

  it('waits, when stopped during a self-upgrade, until the successor has been stopped', async () => {
    const h = harness();
    const [worker] = await startLive(h);
    const pending = pendingUpgrader();
    h.master.enableSelfUpgrade(pending.upgrader);
    const replacing = h.master.upgradeSelf({});
    let done = false;
    const stopping = h.master.stop().then(() => (done = true));
    await flush();
    expect(pending.aborted).toBe(true);
    worker!.exit(0);
    await flush();
    expect(done).toBe(false); // the successor is still being stopped
    pending.settle({ ok: false, reason: 'stopping', message: 'the master is stopping', durationMs: 1 });
    await stopping;
    expect(await replacing).toMatchObject({ ok: false, reason: 'stopping' });
  });
});

describe('Master: as a successor', () => {
  it('goes on from its predecessor\'s numbers and activates its first workers only when the gate opens', async () => {
    const script = fileURLToPath(import.meta.url);
    const options = parseStartOptions({ script, cwd: dirname(script), listen: [], workers: 2, readyTimeout: 1000, hangTimeout: 0 });
    const spawner = new FakeSpawner({ autoAck: true });
    let held = 0;
    const gate = new HoldBack(2, () => held++);
    const master = new Master(options, {
      spawner, clock: new FakeClock(), output: fakeOutlets().outlets, pid: 1,
      successor: { generation: 6, workerSeq: 40, restarts: [3, 0], lastUpgrade: null, holdBack: gate },
    });
    await master.start();
    for (const proc of spawner.procs) proc.ready();
    await flush();
    expect(held).toBe(1);
    expect(master.workers.map((w) => [w.id, w.generation, w.state, w.restarts])).toEqual([[41, 7, 'ready', 3], [42, 7, 'ready', 0]]);
    expect(await master.upgrade('SIGHUP')).toMatchObject({ ok: false, reason: 'busy' });
    const ready = nextEvent(master, 'master.ready');
    master.tookOver();
    gate.open();
    expect(await ready).toMatchObject({ generation: 7 });
    expect(master.workers.every((w) => w.state === 'live')).toBe(true);
  });
});
