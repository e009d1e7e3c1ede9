/**
 * Crashes: a worker killed under load is replaced while its clients wait in
 * the master-held backlog (never refused); a master killed outright takes its
 * workers with it, and the port is free again.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { type LogEvent, baseArgs, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('crash recovery', () => {
  it('replaces a worker killed with SIGKILL; requests made meanwhile wait instead of being refused', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--restart-delay', '300'));
    const ready = await master.waitFor('master.ready');
    const url = await master.url();
    const load = await startLoad(url, { keepalive: 2, fresh: 2 });
    await load.waitForVersion('v1');

    const [victim] = ready.pids as number[];
    process.kill(victim!, 'SIGKILL');
    await master.waitFor('worker.exited', (e) => e.pid === victim && e.expected === false);
    // No worker is alive now: these connect into the master's backlog.
    const during = Promise.all(Array.from({ length: 20 }, () => getVersion(url)));
    const live = await master.waitFor('worker.live', (e) => e.pid !== victim);
    expect(await during).toEqual(Array(20).fill('v1'));
    await load.waitForVersion('v1');
    const report = await load.stop();

    expect(master.count('worker.restart-scheduled')).toBe(1);
    expect(live.slot).toBe(0);
    // Requests in flight on the killed worker's own connections die with it;
    // nothing is ever refused.
    expect(report.failuresByKind.ECONNREFUSED).toBeUndefined();
    expect(report.failed).toBeLessThanOrEqual(4);
    expect(isAlive(master.pid)).toBe(true);
  });

  it('workers exit and the port is free after the master is SIGKILLed', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'));
    const ready = await master.waitFor('master.ready');
    const port = await master.port();
    process.kill(master.pid, 'SIGKILL');
    await master.exited;
    await expect.poll(() => (ready.pids as number[]).filter(isAlive), { timeout: 10_000 }).toEqual([]);
    expect(await canBind(port)).toBe(true);
  });

  it('announces master.ready once a first start that failed is retried successfully', async () => {
    const app = makeApp('v1', 'crash-first-start');
    const master = startMaster(baseArgs(app.script, '--restart-delay', '50'));
    const failed = await master.waitFor('worker.start-failed');
    expect(failed.code).toBe(4);
    const ready = await master.waitFor('master.ready');
    expect(ready.pids).not.toContain(failed.pid);
    expect(await getVersion(await master.url())).toBe('v1');
  });

  it('keeps the port bound and retries with backoff while the first version crash-loops', async () => {
    const app = makeApp('v1', 'crash-after-start');
    const master = startMaster(baseArgs(app.script, '--restart-delay', '50'));
    const port = await master.port();
    const scheduled: LogEvent[] = [];
    for (let i = 0; i < 4; i++) scheduled.push(await master.waitFor('worker.restart-scheduled', undefined, { after: master.events.indexOf(scheduled.at(-1)!) + 1 }));
    expect(scheduled.map((e) => e.delayMs)).toEqual([50, 100, 200, 400]);
    expect(await canBind(port)).toBe(false);
    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    await master.upgraded();
    expect(await getVersion(await master.url())).toBe('v2');
  });
});
