import { describe, expect, it, vi } from 'vitest';
import { formatAddress } from '../../../src/ipc/address.js';
import type { HeldListener } from '../../../src/master/sockets/listeners.js';
import { TIMINGS, emittedOf, flush, harness, nextEvent, sendsOf, startLive } from './master-harness.js';

// A regression here shows up as a promise that never settles: fail in seconds, not at the global 60 s.
vi.setConfig({ testTimeout: 5_000 });

describe('Master upgrade: success', () => {
  it('drains the old generation only after every new worker is ready and has acked activate', async () => {
    const h = harness({ workers: 2 }, { autoAck: false });
    await h.master.start();
    const old = [h.spawner.proc(0), h.spawner.proc(1)];
    for (const p of old) p.autoAck();
    const live = nextEvent(h.master, 'master.ready');
    for (const p of old) p.ready();
    await live;

    const result = h.master.upgrade('test');
    expect(h.named('upgrade.started')).toEqual([{ generation: 2, trigger: 'test' }]);
    const fresh = [h.spawner.proc(2), h.spawner.proc(3)];
    h.clock.advance(10);
    fresh[0]!.ready();
    await flush();
    expect(fresh[0]!.sentOf('activate')).toHaveLength(0); // not before the whole generation is ready
    h.clock.advance(5);
    fresh[1]!.ready();
    await Promise.all(fresh.map((p) => p.waitForSent('activate')));
    h.clock.advance(35);
    expect(fresh[0]!.ackActivate()).toBe(1);
    await flush();
    expect(old.map((p) => p.sentOf('drain'))).toEqual([[], []]); // one new worker still unconfirmed
    h.clock.advance(3);
    expect(fresh[1]!.ackActivate()).toBe(1);

    // Phase times count from the trigger; the generation's are its last worker's; these fakes ask for no socket.
    const phases = {
      generation: { spawned: 0, listening: null, ready: 15, live: 53 },
      slowest: { pid: 1003, slot: 1, spawned: 0, listening: null, ready: 15, live: 53 },
    };
    await expect(result).resolves.toEqual({ ok: true, generation: 2, pids: [1002, 1003], durationMs: 53, phases });
    expect(h.named('upgrade.succeeded')).toEqual([{ generation: 2, previous: 1, pids: [1002, 1003], durationMs: 53, phases }]);
    for (const p of old) expect(p.sentOf('drain')).toEqual([{ ovs: 1, type: 'drain', reason: 'upgrade', timeoutMs: TIMINGS.drainTimeout }]);
    const acks = emittedOf(h.spawner, 'reply', fresh.map((p) => p.pid));
    expect(acks).toHaveLength(2);
    const lastAck = Math.max(...acks.map((a) => a.order));
    const firstDrain = Math.min(...sendsOf(h.spawner, 'drain').map((s) => s.order));
    expect(firstDrain).toBeGreaterThan(lastAck);
    expect(h.named('drain.started').map((d) => [d.pid, d.reason])).toEqual([[1000, 'upgrade'], [1001, 'upgrade']]);
    expect(h.master.currentGeneration).toBe(2);
  });

  it('reports drain.finished when the old workers exit', async () => {
    const h = harness();
    const [old] = await startLive(h);
    const result = h.master.upgrade('test');
    h.spawner.proc(1).ready();
    await expect(result).resolves.toMatchObject({ ok: true, generation: 2 });
    const finished = nextEvent(h.master, 'drain.finished');
    h.clock.advance(25);
    old!.exit(0);
    const completed = nextEvent(h.master, 'upgrade.completed');
    expect(await finished).toEqual({ workerId: 1, generation: 1, slot: 0, pid: 1000, durationMs: 25, forced: undefined, code: 0, signal: null });
    // upgrade.completed: once the old generation is gone, from the trigger (the drain's 25 ms after a 0 ms bring-up).
    expect(await completed).toMatchObject({ generation: 2, previous: 1, durationMs: 25 });
    expect(h.named('worker.exited').at(-1)).toMatchObject({ pid: 1000, state: 'draining', expected: true });
    expect(h.named('worker.restart-scheduled')).toEqual([]);
  });
});

describe('Master upgrade: failure keeps the old generation', () => {
  it('exited-before-ready: no drain, old worker still live, result and event carry the code', async () => {
    const h = harness();
    const [old] = await startLive(h);
    const result = h.master.upgrade('test');
    const fresh = h.spawner.proc(1);
    fresh.stderr.write('boom: cannot start\n');
    await flush();
    fresh.exit(1);
    const outcome = await result;
    expect(outcome).toMatchObject({ ok: false, generation: 2, reason: 'exited-before-ready', code: 1, signal: null });
    expect(outcome.ok === false && outcome.stderr).toEqual(['boom: cannot start']);
    expect(h.named('upgrade.failed')).toEqual([outcome]);
    expect(old!.sentOf('drain')).toEqual([]);
    expect(old!.signals).toEqual([]);
    expect(h.master.workers.map((w) => [w.pid, w.state])).toEqual([[1000, 'live']]);
    expect(h.master.currentGeneration).toBe(1);
  });

  it('ready-timeout: the new worker is SIGKILLed at readyTimeoutMs, the old one untouched', async () => {
    const h = harness();
    const [old] = await startLive(h);
    const result = h.master.upgrade('test');
    const fresh = h.spawner.proc(1);
    h.clock.advance(TIMINGS.readyTimeout - 1);
    await flush();
    expect(fresh.signals).toEqual([]);
    h.clock.advance(1);
    expect(await result).toMatchObject({ ok: false, generation: 2, reason: 'ready-timeout' });
    expect(fresh.signals).toEqual(['SIGKILL']);
    expect(old!.signals).toEqual([]);
    expect(old!.sentOf('drain')).toEqual([]);
    expect(h.master.workers.map((w) => [w.pid, w.state])).toEqual([[1000, 'live']]);
  });

  async function listeningOld(h: ReturnType<typeof harness>) {
    vi.spyOn(h.master.held, 'acquire').mockImplementation(async (address) =>
      ({ handle: { close() {} }, address, key: formatAddress(address), configured: false }) satisfies HeldListener);
    await h.master.start();
    const old = h.spawner.proc(0);
    old.requestListen({ kind: 'tcp', host: undefined, port: 3000 });
    expect(await old.waitForSent('reply')).toMatchObject({ ok: true, result: { kind: 'tcp', port: 3000 } });
    old.ready([{ kind: 'tcp', host: undefined, port: 3000 }]);
    await nextEvent(h.master, 'master.ready');
    return old;
  }

  it('missing-listeners: a new worker that does not listen where the old one does is rejected', async () => {
    const h = harness();
    const old = await listeningOld(h);
    const failed = h.master.upgrade('forgot the port');
    h.spawner.proc(1).ready();
    const outcome = await failed;
    expect(outcome).toMatchObject({ ok: false, generation: 2, reason: 'missing-listeners' });
    expect(outcome.ok === false && outcome.message).toContain('*:3000');
    expect(h.spawner.proc(1).signals).toEqual(['SIGKILL']);
    expect(h.spawner.proc(1).sentOf('activate')).toEqual([]);
    expect(old.sentOf('drain')).toEqual([]);
    expect(h.master.currentGeneration).toBe(1);
  });

  it('a new worker listening on the same address passes the listener check', async () => {
    const h = harness();
    await listeningOld(h);
    const result = h.master.upgrade('listens');
    const good = h.spawner.proc(1);
    good.requestListen({ kind: 'tcp', host: undefined, port: 3000 });
    await good.waitForSent('reply');
    good.ready();
    await expect(result).resolves.toMatchObject({ ok: true, generation: 2 });
  });
});

describe('Master upgrade: one at a time', () => {
  it('coalesces triggers during an upgrade into exactly one follow-up whose result all of them get', async () => {
    const h = harness();
    await startLive(h);
    const first = h.master.upgrade('a');
    const extra = [h.master.upgrade('b'), h.master.upgrade('c'), h.master.upgrade('d')];
    expect(h.named('upgrade.coalesced').map((e) => e.trigger)).toEqual(['b', 'c', 'd']);
    expect(h.spawner.procs).toHaveLength(2);
    h.spawner.proc(1).ready();
    await expect(first).resolves.toMatchObject({ ok: true, generation: 2 });

    const followUp = await h.spawner.waitForSpawn(2);
    followUp.ready();
    const results = await Promise.all(extra);
    for (const result of results) expect(result).toMatchObject({ ok: true, generation: 3, pids: [followUp.pid] });
    await flush();
    expect(h.named('upgrade.started')).toEqual([{ generation: 2, trigger: 'a' }, { generation: 3, trigger: 'd' }]);
    expect(h.spawner.procs).toHaveLength(3);
  });

  it('runs an upgrade requested right after the previous one resolved (await upgrade(); await upgrade())', async () => {
    const h = harness();
    await startLive(h);
    const first = h.master.upgrade('first');
    h.spawner.proc(1).ready();
    expect(await first).toMatchObject({ ok: true, generation: 2 });
    // Nothing is in progress any more: this one must start, not be coalesced into a follow-up that never runs.
    const second = h.master.upgrade('second');
    expect(h.named('upgrade.coalesced')).toEqual([]);
    const proc = await h.spawner.waitForSpawn(2, 500);
    proc.ready();
    await expect(second).resolves.toMatchObject({ ok: true, generation: 3 });
  });
});

describe('Master drain escalation', () => {
  async function drainingOld(h: ReturnType<typeof harness>) {
    const [old] = await startLive(h);
    const result = h.master.upgrade('test');
    h.spawner.proc(1).ready();
    await expect(result).resolves.toMatchObject({ ok: true });
    return old!;
  }

  it('sends SIGTERM at drainTimeoutMs and SIGKILL killTimeoutMs later; drain.finished says forced', async () => {
    const h = harness();
    const old = await drainingOld(h);
    h.clock.advance(TIMINGS.drainTimeout - 1);
    expect(old.signals).toEqual([]);
    h.clock.advance(1);
    expect(old.signals).toEqual(['SIGTERM']);
    h.clock.advance(TIMINGS.killTimeout - 1);
    await flush();
    expect(old.signals).toEqual(['SIGTERM']);
    const finished = nextEvent(h.master, 'drain.finished');
    h.clock.advance(1);
    expect(old.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(await finished).toMatchObject({ pid: 1000, forced: 'SIGKILL', signal: 'SIGKILL', durationMs: TIMINGS.drainTimeout + TIMINGS.killTimeout });
  });

  it('stops escalating when SIGTERM ends the worker', async () => {
    const h = harness();
    const old = await drainingOld(h);
    old.exitsOn.add('SIGTERM');
    const finished = nextEvent(h.master, 'drain.finished');
    h.clock.advance(TIMINGS.drainTimeout);
    expect(await finished).toMatchObject({ forced: 'SIGTERM', signal: 'SIGTERM' });
    h.clock.advance(TIMINGS.killTimeout);
    expect(old.signals).toEqual(['SIGTERM']);
    expect(h.clock.pendingTimers).toBe(0);
  });
});

describe('Master upgrade: a spawner that throws', () => {
  // fork() throws synchronously for some errors (E2BIG, ENOMEM, invalid arguments) instead of emitting 'error'.
  async function afterThrowingSpawn() {
    const h = harness();
    const [old] = await startLive(h);
    const spawn = h.spawner.spawn.bind(h.spawner);
    h.spawner.spawn = () => {
      throw Object.assign(new Error('spawn E2BIG'), { code: 'E2BIG' });
    };
    const outcome: { result?: unknown; rejected?: unknown } = await h.master.upgrade('broken').then(
      (result) => ({ result }),
      (error: unknown) => ({ rejected: error }),
    );
    h.spawner.spawn = spawn;
    return { h, old: old!, outcome };
  }

  it('makes upgrade() resolve not ok, never reject', async () => {
    const { outcome, old } = await afterThrowingSpawn();
    expect(outcome.rejected).toBeUndefined();
    expect(outcome.result).toMatchObject({ ok: false, generation: 2 });
    expect(old.sentOf('drain')).toEqual([]);
  });

  it('does not wedge the next upgrade', async () => {
    const { h } = await afterThrowingSpawn();
    const next = h.master.upgrade('fixed');
    expect(h.named('upgrade.coalesced')).toEqual([]); // nothing is in progress any more
    (await h.spawner.waitForSpawn(1, 500)).ready();
    await expect(next).resolves.toMatchObject({ ok: true });
  });

  it('does not wedge stop()', async () => {
    const { h, old } = await afterThrowingSpawn();
    const stopped = h.master.stop().then(() => 'stopped', (error: unknown) => `stop() rejected: ${String(error)}`);
    expect(await Promise.race([stopped, old.waitForSent('drain').then(() => 'drain sent')])).toBe('drain sent');
    old.exit(0);
    expect(await stopped).toBe('stopped');
    expect(h.master.state).toBe('stopped');
  });
});
