import { describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../src/ipc/env.js';
import { TIMINGS, flush, harness, nextEvent, startLive } from './master-harness.js';

// A regression here shows up as a promise that never settles: fail in seconds, not at the global 60 s.
vi.setConfig({ testTimeout: 5_000 });

describe('Master start', () => {
  it('spawns `workers` workers, activates each once ready, and fires master.ready when all are live', async () => {
    const h = harness({ workers: 2 });
    let readyEvents = 0;
    h.master.on('master.ready', () => readyEvents++);
    await h.master.start();
    expect(h.master.state).toBe('running');
    expect(h.named('master.started')).toEqual([{ pid: 12345, listeners: [] }]);
    const [a, b] = [h.spawner.proc(0), h.spawner.proc(1)];
    expect(h.spawner.procs).toHaveLength(2);
    expect(a.spec.env[ENV.generation]).toBe('1');
    expect([a.spec.env[ENV.workerId], b.spec.env[ENV.workerId]]).toEqual(['1', '2']);
    await flush();
    expect(a.sentOf('activate')).toEqual([]); // not before it says ready

    const firstLive = nextEvent(h.master, 'worker.live');
    a.ready();
    expect(await firstLive).toEqual({ workerId: 1, generation: 1, slot: 0, pid: 1000 });
    expect(a.sentOf('activate')).toEqual([{ ovs: 1, type: 'activate', seq: 1 }]);
    expect(b.sentOf('activate')).toEqual([]);
    expect(readyEvents).toBe(0);

    const ready = nextEvent(h.master, 'master.ready');
    b.ready();
    expect(await ready).toEqual({ generation: 1, pids: [1000, 1001] });
    await flush();
    expect(readyEvents).toBe(1);
    expect(h.master.workers.map((w) => w.state)).toEqual(['live', 'live']);
  });

  it('rejects a script that does not exist, spawning nothing', async () => {
    const h = harness({ script: 'no-such-script.js' });
    await expect(h.master.start()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(h.spawner.procs).toEqual([]);
  });
});

describe('Master crash replacement', () => {
  it('replaces a crashed live worker in its slot after restartDelay', async () => {
    const h = harness({ workers: 2 });
    const [, second] = await startLive(h);
    const scheduled = nextEvent(h.master, 'worker.restart-scheduled');
    second!.exit(1);
    expect(await scheduled).toEqual({ generation: 1, slot: 1, delayMs: TIMINGS.restartDelay, failures: 1 });
    expect(h.named('worker.exited')).toMatchObject([{ pid: 1001, code: 1, state: 'live', expected: false }]);
    h.clock.advance(TIMINGS.restartDelay - 1);
    expect(h.spawner.procs).toHaveLength(2);
    h.clock.advance(1);
    expect(h.spawner.procs).toHaveLength(3);
    const live = nextEvent(h.master, 'worker.live');
    h.spawner.proc(2).ready();
    expect(await live).toEqual({ workerId: 3, generation: 1, slot: 1, pid: 1002 });
  });

  it('backs off 100, 200, 400 … capped at restartDelayMax, and resets after a long uptime', async () => {
    const h = harness();
    await startLive(h);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const proc = h.spawner.proc(i);
      const scheduled = nextEvent(h.master, 'worker.restart-scheduled');
      proc.exit(1);
      const { delayMs } = await scheduled;
      delays.push(delayMs);
      h.clock.advance(delayMs);
      const live = nextEvent(h.master, 'worker.live');
      h.spawner.proc(i + 1).ready();
      await live;
    }
    expect(delays).toEqual([100, 200, 400, 400]);

    h.clock.advance(30_000); // restartResetMs of uptime
    const scheduled = nextEvent(h.master, 'worker.restart-scheduled');
    h.spawner.proc(4).exit(1);
    expect(await scheduled).toMatchObject({ delayMs: 100, failures: 1 });
  });

  it('retries a replacement that fails to start, with growing delays', async () => {
    const h = harness();
    await startLive(h);
    const first = nextEvent(h.master, 'worker.restart-scheduled');
    h.spawner.proc(0).exit(1);
    await first;
    h.clock.advance(TIMINGS.restartDelay);
    const failed = nextEvent(h.master, 'worker.start-failed');
    const again = nextEvent(h.master, 'worker.restart-scheduled');
    h.spawner.proc(1).exit(3);
    expect(await failed).toMatchObject({ pid: 1001, code: 3 });
    expect(await again).toMatchObject({ slot: 0, delayMs: 200, failures: 2 });
  });
});

describe('Master stop', () => {
  it('drains live workers, kills starting ones, and resolves only after all exited', async () => {
    const h = harness({ workers: 2 });
    await h.master.start();
    const [live, starting] = [h.spawner.proc(0), h.spawner.proc(1)];
    const isLive = nextEvent(h.master, 'worker.live');
    live.ready();
    await isLive;

    let done = false;
    const stopped = h.master.stop('test').then(() => (done = true));
    expect(h.master.state).toBe('stopping');
    await flush();
    expect(starting.sentOf('drain')).toEqual([]); // it has accepted nothing: killed, not drained
    expect(live.sentOf('drain')).toEqual([{ ovs: 1, type: 'drain', reason: 'stop', timeoutMs: TIMINGS.drainTimeout }]);
    expect(starting.signals).toContain('SIGKILL');
    expect(starting.exited).toBe(true);
    expect(live.signals).toEqual([]);
    expect(done).toBe(false);

    const event = nextEvent(h.master, 'master.stopped');
    live.exit(0);
    await stopped;
    expect(await event).toEqual({ durationMs: 0 });
    expect(h.master.state).toBe('stopped');
    expect(h.named('drain.started')).toMatchObject([{ pid: 1000, reason: 'stop' }]);
    expect(h.named('worker.restart-scheduled')).toEqual([]);
  });

  it('aborts a running upgrade: it resolves not ok, its new workers are killed, a queued follow-up resolves stopping', async () => {
    const h = harness();
    const [old] = await startLive(h);
    const upgrade = h.master.upgrade('test');
    const followUp = h.master.upgrade('queued');
    const fresh = h.spawner.proc(1);
    const stopped = h.master.stop();
    expect(await followUp).toMatchObject({ ok: false, reason: 'stopping', generation: undefined });
    expect(await upgrade).toMatchObject({ ok: false, reason: 'stopping', generation: 2 });
    expect(fresh.signals).toEqual(['SIGKILL']);
    await old!.waitForSent('drain');
    old!.exit(0);
    await stopped;
    expect(h.master.state).toBe('stopped');
    expect(h.named('upgrade.started')).toHaveLength(1);
  });

  it('refuses upgrades while stopping and after stopped', async () => {
    const h = harness();
    const [old] = await startLive(h);
    const stopped = h.master.stop();
    expect(await h.master.upgrade('late')).toMatchObject({ ok: false, reason: 'stopping', generation: undefined });
    old!.exit(0);
    await stopped;
    expect(await h.master.upgrade('later')).toMatchObject({ ok: false, reason: 'stopping' });
    expect(h.spawner.procs).toHaveLength(1);
    expect(h.named('upgrade.started')).toEqual([]);
  });

  it('stop() during start() wins: nothing is spawned after master.stopped', async () => {
    const h = harness();
    let bound!: () => void;
    // A slow bind (a --listen host name being resolved, a unix socket being probed).
    vi.spyOn(h.master.held, 'bindConfigured').mockImplementation(() => new Promise<void>((resolve) => (bound = resolve)));
    const starting = h.master.start().catch(() => {});
    await h.master.stop();
    expect(h.master.state).toBe('stopped');
    bound();
    await starting;
    await flush();
    expect(h.master.state).toBe('stopped');
    expect(h.spawner.procs).toEqual([]);
    expect(h.named('worker.restart-scheduled')).toEqual([]);
  });

  it('kill() SIGKILLs every worker and resolves once they are gone', async () => {
    const h = harness({ workers: 2 });
    const procs = await startLive(h);
    await h.master.kill('test');
    for (const proc of procs) expect(proc.signals).toContain('SIGKILL');
    expect(h.master.state).toBe('stopped');
    expect(h.named('master.stopping')[0]).toEqual({ reason: 'test', graceful: false });
    expect(h.named('master.stopped')).toHaveLength(1);
  });

  it('is idempotent', async () => {
    const h = harness();
    const [old] = await startLive(h);
    const first = h.master.stop();
    expect(h.master.stop()).toBe(first);
    old!.exit(0);
    await first;
    expect(h.named('master.stopped')).toHaveLength(1);
  });
});

describe('Master: messages a worker should not send', () => {
  it.each([
    ['an unknown overseer type', { ovs: 1, type: 'bogus' }, 'invalid'],
    ['a malformed ready', { ovs: 1, type: 'ready', listeners: 'all of them' }, 'invalid'],
    ['a reply to no request', { ovs: 1, type: 'reply', seq: 99, ok: true }, 'invalid'],
    ['the string hello', 'hello', 'foreign'],
    ['another protocol version', { ovs: 2, type: 'ready', listeners: [] }, 'foreign'],
  ])('%s gives worker.message of kind %s', async (_what, value, kind) => {
    const h = harness();
    const [proc] = await startLive(h);
    const message = nextEvent(h.master, 'worker.message');
    proc!.emitMessage(value);
    expect(await message).toEqual({ workerId: 1, generation: 1, slot: 0, pid: 1000, kind, value });
    expect(proc!.sent.filter((m) => m.type !== 'activate')).toEqual([]);
  });
});
