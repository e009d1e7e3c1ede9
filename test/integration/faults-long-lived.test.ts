/**
 * Fault suite: long-lived connections (WebSocket and server-sent events)
 * across an upgrade. They stay open and keep talking while the new generation
 * starts, and they are ended only by the drain of their old worker: by the
 * app's onShutdown hook; if the app does nothing, WebSockets by overseer's
 * close frame (1001, within --close-spread) and SSE streams, which have no
 * in-band close, at --drain-timeout; with --no-websocket-close, WebSockets
 * too at --drain-timeout. New connections reach the new version.
 */
import { describe, expect, it } from 'vitest';
import { copyExample } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { deadline, openSse, openWs } from '../helpers/long-lived.js';
import { baseArgs, startMaster } from '../helpers/master.js';
import { isGone } from '../helpers/procfs.js';

const FIXTURE = 'test/fixtures/long-lived-app.cjs';

describe('fault: long-lived connections across an upgrade', () => {
  it('stay open while the new generation starts, are closed by the app\'s onShutdown hook, and new ones reach v2', async () => {
    const app = copyExample(FIXTURE);
    const master = startMaster(baseArgs(app.script, '--wait-ready', '--drain-timeout', '10000'), {
      env: { CLOSE_ON_SHUTDOWN: '1', HOLD_READY_VERSION: 'v2' },
    });
    await master.waitFor('master.ready');
    const url = await master.url();
    const ws = await openWs(url);
    const sse = await openSse(`${url}events`);
    expect([ws.version, sse.version]).toEqual(['v1', 'v1']);
    expect(sse.pid).toBe(ws.pid);
    const oldPid = ws.pid;
    expect(await ws.echo('before')).toBe('v1:before');
    await sse.nextTick();

    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    const spawned = await master.waitFor('worker.spawned', (e) => e.generation === 2);
    // v2 is up, listening (held back), and will not say ready until told.
    await master.waitForOutput(/^holding ready v2 /);

    // The new generation is starting: the old connections carry on…
    expect(await ws.echo('during-start')).toBe('v1:during-start');
    await sse.nextTick();
    // …and connections opened now are still v1's (v2 accepts nothing yet).
    const lateWs = await openWs(url);
    expect(lateWs.version).toBe('v1');
    const answers = await Promise.all(Array.from({ length: 20 }, () => getVersion(url)));
    expect(answers).toEqual(Array(20).fill('v1'));
    expect([ws.isOpen(), sse.isOpen(), lateWs.isOpen()]).toEqual([true, true, true]);
    expect(master.count('upgrade.succeeded')).toBe(0); // so all of the above was during the start
    expect(master.count('drain.started')).toBe(0);

    // Let v2 say ready: activate, drain v1, whose hook closes its connections.
    process.kill(spawned.pid as number, 'SIGUSR2');
    const done = await master.upgraded();
    expect(done.generation).toBe(2);
    const drainStarted = await master.waitFor('drain.started', (e) => e.pid === oldPid);
    const [wsEnd, sseEnd, lateEnd] = await deadline(Promise.all([ws.ended, sse.ended, lateWs.ended]), 'old connections not closed by the hook', 5_000);
    // None ended before the drain began (the master's log clock and ours are the same clock).
    for (const end of [wsEnd, sseEnd, lateEnd]) expect(end.at).toBeGreaterThanOrEqual(drainStarted.time as number);
    // The app's own close frame, not overseer's: it came first, and overseer wrote none after it.
    expect(wsEnd).toMatchObject({ code: 1001, reason: 'closed by the app' });
    expect(lateEnd).toMatchObject({ code: 1001, reason: 'closed by the app' });
    expect(sseEnd?.complete).toBe(true);
    expect(sse.events.at(-1)).toEqual({ event: 'bye', data: 'going away' });
    expect(master.output.find((l) => l.startsWith('shutdown v1 '))).toBe(`shutdown v1 pid=${oldPid} ws=2 sse=1`);

    // The hook ended everything: the old worker left long before its deadline.
    const finished = await master.waitFor('drain.finished', (e) => e.pid === oldPid);
    expect(finished.forced).toBeUndefined();
    expect(finished.durationMs as number).toBeLessThan(2_000); // deadline: 10 000
    expect(isGone(oldPid)).toBe(true);

    // New connections reach v2.
    const ws2 = await openWs(url);
    const sse2 = await openSse(`${url}events`);
    expect([ws2.version, sse2.version]).toEqual(['v2', 'v2']);
    expect(ws2.pid).toBe((done.pids as number[])[0]);
    expect(await ws2.echo('after')).toBe('v2:after');
    await sse2.nextTick();
  });

  it('with --no-websocket-close and an app that does nothing, they outlive the start of the drain and are cut at --drain-timeout; new ones reach v2', async () => {
    const DRAIN_TIMEOUT_MS = 1_000;
    const app = copyExample(FIXTURE);
    const master = startMaster(baseArgs(app.script, '--drain-timeout', String(DRAIN_TIMEOUT_MS), '--kill-timeout', '1000', '--no-websocket-close'));
    await master.waitFor('master.ready');
    const url = await master.url();
    const ws = await openWs(url);
    const sse = await openSse(`${url}events`);
    expect([ws.version, sse.version]).toEqual(['v1', 'v1']);
    const oldPid = ws.pid;

    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    const done = await master.waitFor('upgrade.succeeded');
    const drainStarted = await master.waitFor('drain.started', (e) => e.pid === oldPid);
    // The old worker has stopped accepting and run its (do-nothing) hook.
    await master.waitForOutput(/^shutdown v1 /);

    // Draining: the old connections still work…
    expect(await ws.echo('while-draining')).toBe('v1:while-draining');
    await sse.nextTick();
    expect([ws.isOpen(), sse.isOpen()]).toEqual([true, true]);
    // …and new ones reach v2.
    const ws2 = await openWs(url);
    const sse2 = await openSse(`${url}events`);
    expect([ws2.version, sse2.version]).toEqual(['v2', 'v2']);
    expect(ws2.pid).toBe((done.pids as number[])[0]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => getVersion(url)));
    expect(answers).toEqual(Array(20).fill('v2'));
    expect(master.count('drain.finished')).toBe(0); // all of the above was during the drain

    // At the deadline the old worker is terminated and its connections drop.
    const [wsEnd, sseEnd] = await deadline(Promise.all([ws.ended, sse.ended]), 'old connections not ended at the drain deadline', DRAIN_TIMEOUT_MS + 5_000);
    const finished = await master.waitFor('drain.finished', (e) => e.pid === oldPid);
    expect(finished.forced).toBe('SIGTERM');
    expect(finished.signal).toBe('SIGTERM');
    expect(finished.durationMs as number).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS);
    expect(wsEnd.code).toBe(1006); // dropped, no close frame
    expect(sseEnd.complete).toBe(false);
    for (const end of [wsEnd, sseEnd]) expect(end.at - (drainStarted.time as number)).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS - 50);
    expect(isGone(oldPid)).toBe(true);

    // The new version's connections are untouched.
    expect([ws2.isOpen(), sse2.isOpen()]).toEqual([true, true]);
    expect(await ws2.echo('after')).toBe('v2:after');
    await sse2.nextTick();
  });

  it('left to overseer, WebSockets are closed with 1001 within --close-spread while SSE streams are cut at --drain-timeout', async () => {
    const DRAIN_TIMEOUT_MS = 3_000;
    const SPREAD_MS = 500;
    const app = copyExample(FIXTURE);
    const master = startMaster(baseArgs(app.script, '--drain-timeout', String(DRAIN_TIMEOUT_MS), '--kill-timeout', '1000', '--close-spread', String(SPREAD_MS)));
    await master.waitFor('master.ready');
    const url = await master.url();
    const wss = await Promise.all(Array.from({ length: 5 }, () => openWs(url)));
    const sse = await openSse(`${url}events`);
    const oldPid = sse.pid;

    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    const drainStarted = await master.waitFor('drain.started', (e) => e.pid === oldPid);
    const wsEnds = await deadline(Promise.all(wss.map((ws) => ws.ended)), 'WebSockets not closed by overseer', SPREAD_MS + 2_000);
    for (const end of wsEnds) {
      expect(end).toMatchObject({ code: 1001, reason: 'going away' });
      expect(end.at - (drainStarted.time as number)).toBeLessThan(SPREAD_MS + 300);
    }
    // The stream has no in-band close: it is still open after every WebSocket went.
    expect(sse.isOpen()).toBe(true);
    await sse.nextTick();
    const sseEnd = await deadline(sse.ended, 'SSE not ended at the drain deadline', DRAIN_TIMEOUT_MS + 5_000);
    expect(sseEnd.complete).toBe(false);
    expect(sseEnd.at - (drainStarted.time as number)).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS - 50);
    const finished = await master.waitFor('drain.finished', (e) => e.pid === oldPid);
    expect(finished.forced).toBe('SIGTERM');
    const ws2 = await openWs(url);
    expect(ws2.version).toBe('v2');
  });
});
