/**
 * `--metrics`: a real master serves the Prometheus text format on a listener
 * of its own. Scraped before and after an upgrade and a crash: the counters
 * grew and never went back (requests counted by the workers included, across
 * the generation change), the gauges say what the master's events say, and
 * build info and the master's process metrics are there. Bad addresses, and
 * one that is the app's own, are refused at start (exit 2, one line).
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { type MasterRun, baseArgs, runCli, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';

type Samples = Map<string, number>;

function scrape(url: string): Promise<{ status: number; type: string; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text, ms: performance.now() - started }));
    }).on('error', reject);
  });
}

/** `name{labels} value` lines → a map keyed by `name{labels}` as written. */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function samples(url: string): Promise<Samples> {
  const { status, text } = await scrape(url);
  expect(status).toBe(200);
  return parse(text);
}

const COUNTERS = [
  'overseer_requests_total', 'overseer_upgrades_total{result="succeeded"}', 'overseer_upgrades_total{result="failed"}',
  'overseer_upgrades_total{result="rolled_back"}', 'overseer_worker_restarts_total{reason="crash"}',
  'overseer_worker_restarts_total{reason="hang"}', 'overseer_worker_restarts_total{reason="memory"}',
  'overseer_upgrade_duration_seconds_count', 'overseer_drain_duration_seconds_count',
];

function expectNotBackwards(before: Samples, after: Samples): void {
  for (const name of COUNTERS) expect(after.get(name), name).toBeGreaterThanOrEqual(before.get(name)!);
}

async function metricsUrl(master: MasterRun): Promise<string> {
  return (await master.waitFor('metrics.listening')).url as string;
}

describe('--metrics', () => {
  it('serves the series; counters grow across an upgrade and a crash and never go back', async () => {
    const app = makeApp('v1');
    // --hang-timeout 400: a heartbeat (with the counts) every 100 ms.
    const master = startMaster(baseArgs(app.script, '--workers', '2', '--metrics', '127.0.0.1:0', '--hang-timeout', '400', '--restart-delay', '50'));
    await master.waitFor('master.ready');
    const url = await metricsUrl(master);
    const appUrl = await master.url();

    const first = await scrape(url);
    expect(first.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const s1 = parse(first.text);
    expect(s1.get('overseer_workers{state="live"}')).toBe(2);
    expect(s1.get('overseer_workers{state="starting"}')).toBe(0);
    expect(s1.get('overseer_workers{state="standby"}')).toBe(0);
    expect(s1.get('overseer_generation')).toBe(1);
    expect(s1.get(`overseer_build_info{version="0.1.0",node="${process.version}"}`)).toBe(1);
    expect(s1.get('process_resident_memory_bytes')).toBeGreaterThan(0); // the master's own
    for (const slot of ['0', '1']) expect(s1.get(`overseer_worker_resident_memory_bytes{slot="${slot}"}`)).toBeGreaterThan(10 * 1024 ** 2);
    for (const name of COUNTERS) expect(s1.has(name), name).toBe(true);
    expect((await scrape(url.replace('/metrics', '/'))).status).toBe(404);

    for (let i = 0; i < 10; i++) expect(await getVersion(appUrl)).toBe('v1');
    await expect.poll(async () => (await samples(url)).get('overseer_requests_total'), { timeout: 5_000 }).toBeGreaterThanOrEqual(10);
    const s2 = await samples(url);
    expect(s2.get('overseer_worker_connections{slot="0"}')).toBeGreaterThanOrEqual(0);

    app.deploy('v2');
    const upgrade = await master.cli(['upgrade', '--json']);
    expect(upgrade.code).toBe(0);
    const outcome = JSON.parse(upgrade.stdout) as { ok: boolean; phases: { generation: Record<string, number>; slowest: Record<string, number> } };
    const { spawned, listening, ready, live } = outcome.phases.generation;
    expect(0).toBeLessThanOrEqual(spawned!);
    expect(spawned).toBeLessThanOrEqual(listening!);
    expect(listening).toBeLessThanOrEqual(ready!);
    expect(ready).toBeLessThanOrEqual(live!);
    expect(outcome.phases.slowest.live).toBe(live);
    const completed = await master.waitFor('upgrade.completed');
    expect(completed.durationMs).toBeGreaterThanOrEqual(live!);

    const s3 = await samples(url);
    expectNotBackwards(s2, s3);
    expect(s3.get('overseer_generation')).toBe(2);
    expect(s3.get('overseer_upgrades_total{result="succeeded"}')).toBe(1);
    expect(s3.get('overseer_upgrade_duration_seconds_count')).toBe(1);
    expect(s3.get('overseer_upgrade_duration_seconds_sum')).toBeCloseTo((completed.durationMs as number) / 1000, 3);
    expect(s3.get('overseer_drain_duration_seconds_count')).toBe(2);
    expect(s3.get('overseer_workers{state="live"}')).toBe(2);
    expect(s3.get('overseer_workers{state="draining"}')).toBe(0);

    // The new generation counts from 0; the total goes on from where it was.
    for (let i = 0; i < 10; i++) expect(await getVersion(appUrl)).toBe('v2');
    await expect.poll(async () => (await samples(url)).get('overseer_requests_total'), { timeout: 5_000 })
      .toBeGreaterThanOrEqual(s3.get('overseer_requests_total')! + 10);

    const victim = master.events.filter((e) => e.event === 'worker.live' && e.generation === 2)[0]!.pid as number;
    const after = master.events.length;
    process.kill(victim, 'SIGKILL');
    await master.waitFor('worker.live', (e) => e.generation === 2, { after });
    expect(isAlive(victim)).toBe(false);
    const s4 = await samples(url);
    expectNotBackwards(s3, s4);
    expect(s4.get('overseer_worker_restarts_total{reason="crash"}')).toBe(1);
    expect(s4.get('overseer_workers{state="live"}')).toBe(2);
    expect(s4.get('overseer_requests_total')).toBeGreaterThanOrEqual(s3.get('overseer_requests_total')! + 10);

    // A rejected upgrade counts as failed; nothing else moves back.
    app.deploy('v3', 'throw-at-start');
    expect((await master.cli(['upgrade'])).code).toBe(1);
    const s5 = await samples(url);
    expectNotBackwards(s4, s5);
    expect(s5.get('overseer_upgrades_total{result="failed"}')).toBe(1);
    expect(s5.get('overseer_generation')).toBe(2);
  });

  it('counts requests with hang detection off: workers still send their counts, once a second', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--metrics', '127.0.0.1:0', '--hang-timeout', '0'));
    await master.waitFor('master.ready');
    const url = await metricsUrl(master);
    for (let i = 0; i < 3; i++) expect(await getVersion(await master.url())).toBe('v1');
    await expect.poll(async () => (await samples(url)).get('overseer_requests_total'), { timeout: 5_000 }).toBe(3);
  });

  it('keeps the requests a drained worker counted after its last heartbeat (it sends one more before it exits)', async () => {
    const app = makeApp('v1');
    // One beat a second, from the worker's start: these requests and the
    // upgrade fit before the old worker's first regular beat.
    const master = startMaster(baseArgs(app.script, '--metrics', '127.0.0.1:0', '--hang-timeout', '0'));
    await master.waitFor('master.ready');
    const url = await metricsUrl(master);
    for (let i = 0; i < 4; i++) expect(await getVersion(await master.url())).toBe('v1');
    app.deploy('v2');
    expect((await master.cli(['upgrade'])).code).toBe(0);
    await master.waitFor('upgrade.completed');
    expect((await samples(url)).get('overseer_requests_total')).toBe(4);
  });

  it('refuses a bad address, and one of the app\'s, before anything starts (exit 2, one line)', async () => {
    const app = makeApp('v1');
    for (const [value, pattern] of [['nope', /--metrics must be PORT/], ['127.0.0.1:99999', /--metrics has an invalid port/], ['unix:/tmp/m.sock', /--metrics must be PORT, HOST:PORT/]] as const) {
      const result = await runCli(['start', app.script, '--listen', '127.0.0.1:0', '--metrics', value]);
      expect(result.code, value).toBe(2);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    const same = await runCli(['start', app.script, '--listen', '127.0.0.1:3456', '--metrics', '127.0.0.1:3456']);
    expect(same.code).toBe(2);
    expect(same.stderr.trim()).toBe('overseer: --metrics `127.0.0.1:3456` and --listen `127.0.0.1:3456` are the same address (127.0.0.1:3456): metrics are served on an address of their own');
    const wildcard = await runCli(['start', app.script, '--listen', '3456', '--metrics', '127.0.0.1:3456']);
    expect(wildcard.code).toBe(2);
    expect(wildcard.stderr).toMatch(/--metrics `127\.0\.0\.1:3456` and --listen `3456` both use port 3456/);
  });

  it('a --metrics address in use fails the start (exit 1) and leaves nothing behind', async () => {
    const app = makeApp('v1');
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const master = startMaster(baseArgs(app.script, '--metrics', `127.0.0.1:${port}`));
      const { code } = await master.exited;
      expect(code).toBe(1);
      expect(master.stderr).toMatch(/cannot serve --metrics on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
      expect(master.count('worker.spawned')).toBe(0);
    } finally {
      taken.close();
    }
  });
});
