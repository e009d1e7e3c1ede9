/**
 * HTTP/2 drain: every session of the old worker gets GOAWAY, its streams in
 * flight finish, its clients open new streams on new connections (the new
 * generation), and the old worker exits as soon as its sessions have ended,
 * long before --drain-timeout. Real node:http2 clients reusing sessions hard.
 */
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { copyExample } from '../helpers/app.js';
import { startH2Load } from '../helpers/h2-load.js';
import { startLoad } from '../helpers/load.js';
import { deadline } from '../helpers/long-lived.js';
import { ROOT, baseArgs, startMaster } from '../helpers/master.js';
import { onCleanup } from '../helpers/processes.js';

const TLS_DIR = `${ROOT}test/fixtures/tls`;
const DRAIN_TIMEOUT_MS = 30_000;

/** One GET on `session`: the status, `x-version` and body. */
function h2Get(session: http2.ClientHttp2Session, path = '/'): Promise<{ status: number; version: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let status = 0;
    let version = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      version = String(headers['x-version']);
    });
    stream.on('error', reject);
    stream.resume();
    stream.on('end', () => resolve({ status, version }));
  });
}

function connect(url: string): http2.ClientHttp2Session {
  const session = http2.connect(url, { rejectUnauthorized: false });
  session.on('error', () => {}); // streams report their own failures
  onCleanup(() => session.destroy());
  return session;
}

/**
 * 3 upgrades under 4 sessions × 8 concurrent streams; checks 0 failed
 * streams, each upgrade in effect within 1 s of go-live, and old workers
 * gone in < 3 s (deadline 30 s).
 */
async function upgradeUnderLoad(fixture: string, scheme: string, env: NodeJS.ProcessEnv): Promise<void> {
  const app = copyExample(fixture);
  const master = startMaster(baseArgs(app.script, '--workers', '2', '--drain-timeout', String(DRAIN_TIMEOUT_MS)), { env });
  await master.waitFor('master.ready');
  const url = (await master.url()).replace(/^http:/, scheme);
  const load = await startH2Load(url, { sessions: 4, streams: 8 });
  await load.waitForVersion('v1', { minCount: 1000 });

  const upgrades: Array<{ from: string; liveAt: number; generation: number }> = [];
  for (const [from, to] of [['v1', 'v2'], ['v2', 'v3'], ['v3', 'v4']] as const) {
    app.deploy(to);
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    const live = await master.upgraded(mark);
    upgrades.push({ from, liveAt: live.time as number, generation: live.generation as number });
    await load.waitForVersion(to, { minCount: 1000 });
  }
  const report = await load.stop();

  expect(report.errors).toEqual([]);
  expect(report.failed).toBe(0);
  expect(report.sessionErrors).toEqual({});
  expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3', 'v4']);
  for (const { from, liveAt, generation } of upgrades) {
    // The old version's last answer: streams in flight at go-live, and
    // streams opened before the client read the GOAWAY.
    expect(report.versionSpans[from]!.lastAt - liveAt).toBeLessThan(1000);
    const drained = master.events.filter((e) => e.event === 'drain.finished' && e.generation === generation - 1);
    expect(drained).toHaveLength(2);
    for (const e of drained) {
      expect(e.forced).toBeUndefined();
      expect(e.durationMs as number).toBeLessThan(3000);
    }
  }
  // Refused: streams the client opened while a GOAWAY was on its way, above
  // its last stream id, so never processed, and retried by the client. At
  // most the 8 concurrent streams of each session that got a GOAWAY.
  expect(report.goaways).toBeGreaterThanOrEqual(4 * upgrades.length);
  expect(report.refused).toBeLessThanOrEqual(8 * report.goaways);
}

describe.each([
  ['h2c (cleartext)', 'http:', {}],
  ['h2 over TLS', 'https:', { TLS_DIR }],
])('HTTP/2 drain, %s', (_name, scheme, env) => {
  it('3 upgrades under 4 sessions × 8 streams: 0 failed streams, each upgrade takes effect within 1 s, old workers exit in < 3 s', async () => {
    await upgradeUnderLoad('test/fixtures/h2-app.cjs', scheme, env);
  });

  it('lets a stream in flight finish on the old worker; the same client then reaches the new version on a new connection', async () => {
    const app = copyExample('test/fixtures/h2-app.cjs');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', String(DRAIN_TIMEOUT_MS)), { env });
    await master.waitFor('master.ready');
    const url = (await master.url()).replace(/^http:/, scheme);
    const session = connect(url);
    expect((await h2Get(session)).version).toBe('v1');
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const slow = h2Get(session, '/slow?ms=1500');
    await master.waitForOutput(/slow stream started/);

    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    expect(await deadline(goaway, 'no GOAWAY')).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(session.closed).toBe(true); // no new stream may go there
    expect(await slow).toEqual({ status: 200, version: 'v1' });
    const next = connect(url);
    expect((await h2Get(next)).version).toBe('v2');
    const finished = await master.waitFor('drain.finished');
    expect(finished.forced).toBeUndefined();
    expect(finished.durationMs as number).toBeLessThan(3000);
  });
});

describe('HTTP/2 drain, apps built on node:http2', () => {
  it('fastify with http2: true (h2c): 3 upgrades under load, 0 failed streams', async () => {
    await upgradeUnderLoad('test/fixtures/fastify-h2-app.cjs', 'http:', {});
  });
});

describe('HTTP/2 and HTTP/1.1 on one port (allowHTTP1)', () => {
  it('drains both: 2 upgrades under h2 and HTTP/1.1 keep-alive load, 0 failed, old workers exit in < 3 s', async () => {
    const app = copyExample('test/fixtures/h2-compat-app.cjs');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', String(DRAIN_TIMEOUT_MS)), { env: { TLS_DIR } });
    await master.waitFor('master.ready');
    const url = (await master.url()).replace(/^http:/, 'https:');
    const h2 = await startH2Load(url, { sessions: 2, streams: 4 });
    const h1 = await startLoad(url, { keepalive: 4, fresh: 1 });
    await h2.waitForVersion('v1', { minCount: 200 });
    await h1.waitForVersion('v1', { minCount: 200 });
    for (const version of ['v2', 'v3']) {
      app.deploy(version);
      const mark = master.events.length;
      process.kill(master.pid, 'SIGUSR2');
      await master.upgraded(mark);
      await h2.waitForVersion(version, { minCount: 200 });
      await h1.waitForVersion(version, { minCount: 200 });
    }
    const [h2Report, h1Report] = [await h2.stop(), await h1.stop()];
    expect(h2Report.errors).toEqual([]);
    expect(h1Report.errors).toEqual([]);
    expect(h2Report.failed + h1Report.failed).toBe(0);
    const drained = master.events.filter((e) => e.event === 'drain.finished' && (e.generation as number) < 3);
    expect(drained).toHaveLength(2);
    for (const e of drained) {
      expect(e.forced).toBeUndefined();
      expect(e.durationMs as number).toBeLessThan(3000);
    }
  });
});
