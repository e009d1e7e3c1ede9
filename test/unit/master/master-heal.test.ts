/**
 * Self-healing wired into the master (health/healer.ts, generations/replace.ts):
 * a hung worker is replaced first and SIGKILLed after; a replacement that
 * fails still ends the hung worker and the slot is refilled once, with
 * backoff; leaking workers are recycled one at a time, each drained only
 * once its replacement is live.
 */
import { describe, expect, it } from 'vitest';
import { flush, nextEvent } from '../../helpers/fakes.js';
import { TIMINGS, harness, startLive } from './master-harness.js';

const beat = { ovs: 1, type: 'heartbeat', connections: 0, requests: 0 };

describe('Master: hung workers', () => {
  it('passes the heartbeat interval (and --hang-stack) to workers', async () => {
    const h = harness({ hangTimeout: 1000, hangStack: true });
    await h.master.start();
    expect(h.spawner.proc(0).spec.env).toMatchObject({ OVERSEER_HEARTBEAT_MS: '250', OVERSEER_HANG_STACK_MS: '1000' });
    const off = harness({ hangTimeout: 0 });
    await off.master.start();
    expect(off.spawner.proc(0).spec.env.OVERSEER_HEARTBEAT_MS).toBeUndefined();
  });

  it('a live worker silent for --hang-timeout: worker.hung, a replacement, then SIGKILL; no crash restart', async () => {
    const h = harness({ workers: 2, hangTimeout: 1000 });
    const [first, second] = await startLive(h);
    for (let t = 0; t < 4; t++) {
      h.clock.advance(250);
      first!.emitMessage(beat); // the first keeps beating; the second is silent
    }
    h.clock.advance(250);
    expect(h.named('worker.hung')).toEqual([{ workerId: 2, generation: 1, slot: 1, pid: 1001, reason: 'hang', silentMs: 1000 }]);
    expect(h.spawner.procs).toHaveLength(3);
    expect(second!.signals).toEqual([]); // not before its replacement is live
    const live = nextEvent(h.master, 'worker.live');
    h.spawner.proc(2).ready();
    expect(await live).toMatchObject({ slot: 1, pid: 1002 });
    expect(second!.signals).toEqual(['SIGKILL']);
    const exited = nextEvent(h.master, 'worker.exited');
    await flush();
    expect(await exited).toMatchObject({ pid: 1001, state: 'live', signal: 'SIGKILL', expected: true });
    h.clock.advance(TIMINGS.restartDelayMax);
    expect(h.named('worker.restart-scheduled')).toEqual([]);
    expect(h.spawner.procs).toHaveLength(3);
    expect(first!.signals).toEqual([]);
  });

  it('a replacement that fails: the hung worker is killed anyway and the slot refilled once, with backoff', async () => {
    const h = harness({ hangTimeout: 1000 });
    const [first] = await startLive(h);
    h.clock.advance(1250);
    expect(h.named('worker.hung')).toHaveLength(1);
    const failed = nextEvent(h.master, 'worker.start-failed');
    h.spawner.proc(1).exit(1);
    expect(await failed).toMatchObject({ pid: 1001, reason: 'exited-before-ready' });
    expect(first!.signals).toEqual(['SIGKILL']);
    const scheduled = nextEvent(h.master, 'worker.restart-scheduled');
    await flush();
    await scheduled;
    await flush();
    expect(h.named('worker.restart-scheduled')).toHaveLength(1);
    h.clock.advance(TIMINGS.restartDelay);
    expect(h.spawner.procs).toHaveLength(3);
    expect(h.named('worker.restart-scheduled')).toHaveLength(1);
  });

  it('a starting worker is not watched (its ready deadline covers it)', async () => {
    const h = harness({ hangTimeout: 200, readyTimeout: 5_000 });
    await h.master.start();
    h.clock.advance(1_000);
    expect(h.named('worker.hung')).toEqual([]);
  });

  it('hung during an upgrade: the upgrade retires its generation, the replacement is dismissed and the hung one killed', async () => {
    const h = harness({ hangTimeout: 1000 });
    const [first] = await startLive(h);
    h.clock.advance(1250);
    expect(h.named('worker.hung')).toHaveLength(1);
    const replacement = h.spawner.proc(1);
    const upgraded = h.master.upgrade('test');
    await h.spawner.waitForSpawn(2);
    h.spawner.proc(2).ready();
    expect(await upgraded).toMatchObject({ ok: true, generation: 2 });
    expect(replacement.signals).toEqual(['SIGKILL']); // not live yet: accepted nothing
    await flush();
    await new Promise((resolve) => setImmediate(resolve));
    await flush();
    expect(first!.signals).toContain('SIGKILL');
    expect(h.named('worker.start-failed')).toEqual([]);
    h.clock.advance(TIMINGS.restartDelayMax);
    expect(h.named('worker.restart-scheduled')).toEqual([]);
    expect(h.spawner.procs).toHaveLength(3);
  });

  it('hung while the master stops: the replacement is abandoned and the hung worker killed, and the stop completes', async () => {
    const h = harness({ hangTimeout: 1000 });
    const [first] = await startLive(h);
    h.clock.advance(1250);
    expect(h.named('worker.hung')).toHaveLength(1);
    const stopped = h.master.stop();
    await flush();
    await new Promise((resolve) => setImmediate(resolve));
    await flush();
    expect(first!.signals).toContain('SIGKILL');
    expect(h.spawner.proc(1).signals).toContain('SIGKILL');
    await new Promise((resolve) => setImmediate(resolve));
    h.clock.advance(1_000);
    await stopped;
    expect(h.master.state).toBe('stopped');
    expect(h.named('worker.restart-scheduled')).toEqual([]);
  });

  it('a draining worker is not watched', async () => {
    const h = harness({ hangTimeout: 1000 });
    const [first] = await startLive(h);
    first!.emitMessage({ ovs: 1, type: 'draining', signal: 'SIGTERM' });
    h.clock.advance(400);
    expect(h.named('worker.hung')).toEqual([]);
  });
});

describe('Master: leaking workers', () => {
  it('recycles one at a time: a replacement first, then a drain; the next only after', async () => {
    const rss = new Map<number, number>();
    const h = harness({ workers: 2, hangTimeout: 0, maxMemory: '64M' }, { autoAck: true }, {
      readRss: async (pid) => rss.get(pid) ?? 40 * 1024 ** 2, jitterMs: 100, random: () => 0.5, sampleMs: 1000,
    });
    const [first, second] = await startLive(h);
    rss.set(first!.pid, 100 * 1024 ** 2);
    rss.set(second!.pid, 100 * 1024 ** 2);
    for (let i = 0; i < 2; i++) {
      h.clock.advance(1000);
      await flush();
    }
    h.clock.advance(50);
    await flush();
    expect(h.named('worker.recycling')).toEqual([{ workerId: 1, generation: 1, slot: 0, pid: 1000, reason: 'memory', rssBytes: 100 * 1024 ** 2, limitBytes: 64 * 1024 ** 2 }]);
    expect(h.spawner.procs).toHaveLength(3);
    expect(first!.sentOf('drain')).toEqual([]); // not before its replacement is live
    h.clock.advance(500); // (the replacement's ready deadline is 1000)
    await flush();
    expect(h.named('worker.recycling')).toHaveLength(1); // the second waits its turn
    const recycled = nextEvent(h.master, 'worker.recycled');
    h.spawner.proc(2).ready();
    expect(await recycled).toMatchObject({ pid: 1000, reason: 'memory' });
    expect(first!.sentOf('drain')).toHaveLength(1);
    expect(h.named('drain.started')).toMatchObject([{ pid: 1000, reason: 'recycle' }]);
    await flush();
    h.clock.advance(50);
    await flush();
    expect(h.named('worker.recycling').map((e) => e.pid)).toEqual([1000, 1001]);
    const names = h.events.map((e) => e.name).filter((n) => n === 'worker.recycling' || n === 'worker.recycled');
    expect(names).toEqual(['worker.recycling', 'worker.recycled', 'worker.recycling']);
  });

  it('a recycle whose replacement fails leaves the old worker serving in its slot (its crash is the slot\'s again)', async () => {
    const h = harness({ hangTimeout: 0, maxMemory: '64M' }, { autoAck: true }, {
      readRss: async () => 100 * 1024 ** 2, jitterMs: 0, random: () => 0, sampleMs: 1000,
    });
    const [first] = await startLive(h);
    for (let i = 0; i < 2; i++) {
      h.clock.advance(1000);
      await flush();
    }
    h.clock.advance(0);
    await flush();
    expect(h.named('worker.recycling')).toHaveLength(1);
    const failed = nextEvent(h.master, 'worker.start-failed');
    h.spawner.proc(1).exit(1);
    await failed;
    await flush();
    expect(first!.sentOf('drain')).toEqual([]);
    expect(h.named('worker.recycled')).toEqual([]);
    const scheduled = nextEvent(h.master, 'worker.restart-scheduled');
    first!.exit(1);
    expect(await scheduled).toMatchObject({ slot: 0 });
  });
});
