/**
 * Self-healing under continuous keep-alive + new-connection load (real
 * master, real workers, bench/load-client.mjs):
 * - a worker whose event loop blocks forever is reported `worker.hung`
 *   within --hang-timeout + 1 s, replaced, then killed; the only requests
 *   that fail are those the hung worker had accepted (at most one per load
 *   connection), with 2 workers and with 1 (new connections wait in the
 *   master's backlog for the replacement);
 * - a worker that grows past --max-memory is recycled (replacement first,
 *   then a drain) several times in a row, one at a time, with 0 failed requests.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { startLoad } from '../helpers/load.js';
import { type MasterRun, ROOT, baseArgs, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';

const APP = `${ROOT}test/fixtures/self-heal-app.cjs`;
const KEEPALIVE = 4;
const FRESH = 2;

/** One GET on a fresh connection; resolves with the pid that answered. */
function hit(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(res.headers['x-pid'])));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function hangOne(workers: number, ...extra: string[]): Promise<MasterRun> {
  const master = startMaster(baseArgs(APP, '--workers', String(workers), '--hang-timeout', '1000', ...extra));
  const ready = await master.waitFor('master.ready');
  const url = await master.url();
  const load = await startLoad(url, { keepalive: KEEPALIVE, fresh: FRESH });
  await load.waitForVersion('v1', { minCount: 50 });

  const hungPid = await hit(`${url}hang`);
  const blockedAt = Date.now();
  const hung = await master.waitFor('worker.hung', (e) => e.pid === hungPid, { timeoutMs: 10_000 });
  const detectedMs = Date.now() - blockedAt;
  expect(hung.silentMs as number).toBeGreaterThanOrEqual(1000);
  expect(hung.silentMs as number).toBeLessThanOrEqual(2000);
  const replacement = await master.waitFor('worker.live', (e) => !(ready.pids as number[]).includes(e.pid!), { timeoutMs: 10_000 });
  expect(replacement.slot).toBe(hung.slot);
  await expect.poll(() => isAlive(hungPid), { timeout: 5_000 }).toBe(false);
  const exited = await master.waitFor('worker.exited', (e) => e.pid === hungPid);
  expect(exited).toMatchObject({ signal: 'SIGKILL', expected: true });
  // The replacement serves (with 1 worker: everything that waited in the backlog, too).
  await load.waitForVersion('v1', { minCount: 50 });
  const report = await load.stop();

  expect(master.count('worker.hung')).toBe(1);
  expect(master.count('worker.restart-scheduled')).toBe(0);
  expect(report.failuresByKind.ECONNREFUSED).toBeUndefined();
  // Only requests the hung worker had accepted fail: at most one per load connection in flight.
  expect(report.failed).toBeLessThanOrEqual(KEEPALIVE + FRESH);
  console.log(`hang (${workers} worker(s)): detected after ${detectedMs} ms (silent ${hung.silentMs} ms), ${report.failed} failed of ${report.total}`, report.failuresByKind);
  await stop(master);
  return master;
}

async function stop(master: MasterRun): Promise<void> {
  process.kill(master.pid, 'SIGTERM');
  expect((await master.exited).code).toBe(0);
}

describe('hung workers (--hang-timeout)', () => {
  it('2 workers: the hung one is reported, replaced, then killed; the other serves throughout', async () => {
    await hangOne(2);
  }, 60_000);
  it('with --hang-stack the hung worker says where its loop is stuck before it is killed', async () => {
    const master = await hangOne(2, '--hang-stack');
    expect(master.stderr).toMatch(/event loop blocked for \d+ ms at: .*self-heal-app\.cjs/);
  }, 60_000);
  it('1 worker: new connections wait in the backlog and are served by the replacement', async () => {
    await hangOne(1);
  }, 60_000);
});

describe('leaking workers (--max-memory)', () => {
  it('recycles the workers that grew, one at a time, replacement first, with 0 failed requests', async () => {
    const master = startMaster(baseArgs(APP, '--workers', '2', '--max-memory', '64M'));
    const ready = await master.waitFor('master.ready');
    const url = await master.url();
    const load = await startLoad(url, { keepalive: KEEPALIVE, fresh: FRESH });
    await load.waitForVersion('v1', { minCount: 50 });
    const status = await master.cli(['status']);
    expect(status.stdout.match(/rss \d+\.\d MB \/ 64\.0 MB limit/g)).toHaveLength(2); // each worker's RSS and the limit

    // Both workers grow past the limit (each fresh connection lands on either).
    const grown = new Set<number>();
    for (let i = 0; i < 40 && grown.size < 2; i++) grown.add(await hit(`${url}grow?mb=48`));
    expect([...grown].sort()).toEqual([...(ready.pids as number[])].sort());
    for (const pid of grown) await master.waitFor('worker.recycled', (e) => e.pid === pid, { timeoutMs: 30_000 });
    await load.waitForVersion('v1', { minCount: 50 });
    const report = await load.stop();

    const first = ready.pids as number[];
    const story = master.events.filter((e) =>
      ['worker.recycling', 'worker.recycled', 'drain.started'].includes(e.event) || (e.event === 'worker.live' && !first.includes(e.pid!)));
    // One at a time: recycling, its replacement live, the old one drains; only then the next.
    const one = ['worker.recycling', 'worker.live', 'drain.started', 'worker.recycled'];
    expect(story.map((e) => e.event)).toEqual([...one, ...one]);
    for (const e of master.events.filter((x) => x.event === 'worker.recycled')) {
      expect(e).toMatchObject({ reason: 'memory', limitBytes: 64 * 1024 ** 2 });
      expect(e.rssBytes as number).toBeGreaterThan(64 * 1024 ** 2);
    }
    expect(report.failed).toBe(0);
    console.log(`recycle: 2 recycles, ${report.failed} failed of ${report.total}`);
    await stop(master);
  }, 90_000);
});

describe('warm rollback (--rollback-window)', () => {
  it('a release that crashes a second after ready: the old pids serve again, overseer upgrade exits 1 with the reason', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2', '--rollback-window', '5000'));
    const ready = await master.waitFor('master.ready');
    const oldPids = [...(ready.pids as number[])].sort();
    const url = await master.url();
    const load = await startLoad(url, { keepalive: KEEPALIVE, fresh: FRESH });
    await load.waitForVersion('v1', { minCount: 50 });

    app.deploy('v2', 'crash-after-ready');
    const upgrade = await master.cli(['upgrade'], { timeoutMs: 30_000 });
    expect(upgrade.code).toBe(1);
    expect(upgrade.stderr).toMatch(/rolled-back: worker \d+ exited \(code 3\) within the rollback window; the old generation serves again/);
    const rolledBack = await master.waitFor('upgrade.rolled-back');
    expect(rolledBack).toMatchObject({ generation: 2, current: 1 });
    expect(master.events.findIndex((e) => e.event === 'upgrade.window')).toBeLessThan(master.events.indexOf(rolledBack));
    // The same processes serve again: no boot, no new pid.
    const status = JSON.parse((await master.cli(['status', '--json'])).stdout) as { generation: number; workers: Array<{ pid: number }> };
    expect(status.generation).toBe(1);
    expect(status.workers.map((w) => w.pid).sort()).toEqual(oldPids);
    await load.waitForVersion('v1', { minCount: 50 });
    const report = await load.stop();
    expect(report.versions.v2).toBeGreaterThan(0); // v2 did serve before it crashed
    expect(report.failuresByKind.ECONNREFUSED).toBeUndefined();
    // Only requests on the crashed workers may fail: at most one per load connection in flight at each of
    // the two crashes (a connection that failed on one v2 worker may reconnect to the other before it dies).
    expect(report.failed).toBeLessThanOrEqual(2 * (KEEPALIVE + FRESH));
    for (const pid of oldPids) expect(isAlive(pid)).toBe(true);
    console.log(`rollback: ${report.failed} failed of ${report.total}`, report.failuresByKind, report.versions);
    await stop(master);
  }, 60_000);
});
