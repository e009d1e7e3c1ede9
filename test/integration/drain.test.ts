/**
 * Draining an old worker: it stops accepting, ends keep-alive in-band
 * (`Connection: close`) instead of racing clients that reuse connections,
 * each connection at its own moment of --close-spread, lets in-flight
 * requests finish, and exits long before the drain deadline.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { get } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { baseArgs, startMaster } from '../helpers/master.js';

describe('drain', () => {
  it('finishes long before --drain-timeout under continuous keep-alive load', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', '20000'));
    await master.waitFor('master.ready');
    const load = await startLoad(await master.url(), { keepalive: 8, fresh: 0 });
    await load.waitForVersion('v1', { minCount: 1000 });
    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    const finished = await master.waitFor('drain.finished');
    await load.waitForVersion('v2', { minCount: 1000 });
    const report = await load.stop();

    expect(finished.forced).toBeUndefined();
    expect(finished.durationMs as number).toBeLessThan(3000); // close spread: 2000 (default), deadline: 20000
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
  });

  it('answers idle keep-alive connections reused right after the upgrade (no ECONNRESET)', async () => {
    const app = makeApp('v1');
    // No spread: every connection is told to go at its first answer after the drain.
    const master = startMaster(baseArgs(app.script, '--drain-timeout', '20000', '--close-spread', '0'));
    await master.waitFor('master.ready');
    const url = await master.url();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const first = await Promise.all(Array.from({ length: 10 }, () => get(url, agent)));
    expect(first.every((r) => r.version === 'v1' && r.connection === 'keep-alive')).toBe(true);

    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    await master.waitFor('drain.started');
    // The very connections opened before the upgrade, reused at once, and
    // again until the old worker (which gets the drain message a moment
    // after the log line) tells each of them in-band to go.
    const reused = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const answers = [];
        for (let i = 0; i < 50; i++) {
          const res = await get(url, agent);
          answers.push(res);
          if (res.connection === 'close') break;
        }
        return answers;
      }),
    );
    for (const answers of reused) {
      expect(answers.every((r) => r.status === 200 && r.reused && r.version === 'v1')).toBe(true);
      expect(answers.at(-1)?.connection).toBe('close');
    }
    // The client reconnects to the new generation; the old worker, with no
    // connection left, is done long before its deadline.
    const finished = await master.waitFor('drain.finished');
    expect(finished.forced).toBeUndefined();
    expect(finished.durationMs as number).toBeLessThan(2000);
    const after = await get(url, agent);
    expect(after.version).toBe('v2');
    agent.destroy();
  });

  it('spreads the Connection: close of busy keep-alive connections over --close-spread', async () => {
    const SPREAD_MS = 1_000;
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', '20000', '--close-spread', String(SPREAD_MS)));
    await master.waitFor('master.ready');
    const url = await master.url();
    let stop = false;
    // 20 clients, each on one keep-alive connection, asking back to back; each
    // notes when its old connection was told to go.
    const clients = Array.from({ length: 20 }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      let toldAt: number | undefined;
      let v1 = 0;
      while (!stop) {
        const res = await get(url, agent);
        expect(res.status).toBe(200);
        if (res.version === 'v1') v1++;
        if (res.version === 'v1' && res.connection === 'close') toldAt ??= Date.now();
      }
      agent.destroy();
      return { toldAt, v1 };
    });
    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    const drainStarted = await master.waitFor('drain.started');
    const finished = await master.waitFor('drain.finished');
    stop = true;
    const results = await Promise.all(clients);
    expect(finished.forced).toBeUndefined();
    const told = results.map((r) => (r.toldAt as number) - (drainStarted.time as number));
    expect(told.every((t) => t >= -20 && t < SPREAD_MS + 500)).toBe(true);
    expect(Math.max(...told) - Math.min(...told)).toBeGreaterThan(SPREAD_MS / 2);
    expect(finished.durationMs as number).toBeGreaterThan(SPREAD_MS / 2);
    expect(finished.durationMs as number).toBeLessThan(SPREAD_MS + 1_000);
    console.log(`Connection: close sent ${Math.min(...told)}…${Math.max(...told)} ms after drain.started; drain ${String(finished.durationMs)} ms`);
  });

  it('lets a slow request finish on SIGTERM, then exits 0', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    const slow = get(await master.url('/slow?ms=1500'), false);
    await master.waitForOutput(/slow request started/);
    process.kill(master.pid, 'SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect((await master.exited).code).toBe(0);
    expect(master.count('drain.finished', (e) => e.forced === undefined)).toBe(1);
  });

  it('ends a request that never finishes at --drain-timeout, and the master carries on', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', '500', '--kill-timeout', '500'));
    await master.waitFor('master.ready');
    const stuck = get(await master.url('/slow?ms=600000'), false).catch((error: NodeJS.ErrnoException) => error.code);
    await master.waitForOutput(/slow request started/);
    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    const finished = await master.waitFor('drain.finished');
    expect(finished.forced).toBe('SIGTERM');
    expect(finished.signal).toBe('SIGTERM');
    expect(await stuck).toBe('ECONNRESET');
    const res = await get(await master.url(), false);
    expect(res.version).toBe('v2');
  });
});
