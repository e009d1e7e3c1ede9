/**
 * Unmodified apps: an express app that only calls `app.listen(PORT)`, and an
 * ESM app using the opt-in worker API with --wait-ready, upgrade under load
 * with zero failed requests.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { type App, appSource, copyExample, makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { onCleanup } from '../helpers/processes.js';
import { startLoad } from '../helpers/load.js';
import { ROOT, baseArgs, startMaster } from '../helpers/master.js';

async function upgradeTwiceUnderLoad(app: App, extra: string[] = [], options: { env?: NodeJS.ProcessEnv; https?: boolean } = {}) {
  const master = startMaster(baseArgs(app.script, '--workers', '2', ...extra), { env: options.env });
  await master.waitFor('master.ready');
  const url = (await master.url()).replace(/^http:/, options.https ? 'https:' : 'http:');
  const load = await startLoad(url, { keepalive: 4, fresh: 2 });
  await load.waitForVersion('v1');
  for (const version of ['v2', 'v3']) {
    app.deploy(version);
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    await master.waitFor('upgrade.succeeded', undefined, { after: mark });
    await load.waitForVersion(version, { minCount: 500 });
  }
  const report = await load.stop();
  process.kill(master.pid, 'SIGTERM');
  expect((await master.exited).code).toBe(0);
  return { master, report };
}

describe('unmodified apps', () => {
  it('express: app.listen(process.env.PORT)', async () => {
    const { report } = await upgradeTwiceUnderLoad(copyExample('examples/express/server.js', 'commonjs'));
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3']);
  });

  it.each([
    ['fastify', 'test/fixtures/fastify-app.cjs'],
    ['koa', 'test/fixtures/koa-app.cjs'],
  ])('%s', async (_name, fixture) => {
    const { report } = await upgradeTwiceUnderLoad(copyExample(fixture));
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3']);
  });

  it('node:https, keep-alive over TLS', async () => {
    const env = { TLS_DIR: `${ROOT}test/fixtures/tls` };
    const { report } = await upgradeTwiceUnderLoad(copyExample('test/fixtures/https-app.cjs'), [], { env, https: true });
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.byLoop.keepalive.total).toBeGreaterThan(0);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3']);
  });

  it('a raw net server', async () => {
    const app = copyExample('test/fixtures/net-app.cjs');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    const port = await master.port();
    const read = () =>
      new Promise<string>((resolve, reject) => {
        let data = '';
        net.connect(port, '127.0.0.1').setEncoding('utf8').on('data', (d) => (data += d)).on('end', () => resolve(data.trim())).on('error', reject);
      });
    expect(await read()).toBe('v1');
    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    await master.upgraded();
    expect(await read()).toBe('v2');
  });

  it('a second listen() on the same server throws as Node does, and the first still serves', async () => {
    const app = makeApp('v1');
    writeFileSync(app.script, appSource('v1').concat(
      `try { server.listen(process.env.PORT); } catch (error) { console.log('second listen: ' + error.code); }\n`,
    ));
    const master = startMaster(baseArgs(app.script));
    expect(await master.waitForOutput(/^second listen: /)).toBe('second listen: ERR_SERVER_ALREADY_LISTEN');
    await master.waitFor('master.ready');
    expect(await getVersion(await master.url())).toBe('v1');
  });

  it('an app listening on a port in use gets EADDRINUSE in its error handler, as under plain node', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise((resolve) => busy.close(resolve)));
    const app = makeApp('v1');
    writeFileSync(app.script, appSource('v1').concat(
      `http.createServer().listen(Number(process.env.BUSY_PORT), '127.0.0.1').on('error', (error) => console.log('busy: ' + error.code));\n`,
    ));
    const master = startMaster(baseArgs(app.script), { env: { BUSY_PORT: String((busy.address() as net.AddressInfo).port) } });
    expect(await master.waitForOutput(/^busy: /)).toBe('busy: EADDRINUSE');
  });

  it('ESM with overseer/worker: ready() under --wait-ready, onShutdown runs after in-flight requests', async () => {
    const { master, report } = await upgradeTwiceUnderLoad(copyExample('examples/esm/server.mjs'), ['--wait-ready']);
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3']);
    // Each drained worker ran its onShutdown hook to the end (it prints after `idle`).
    expect(master.output.filter((l) => /^esm v\d \(pid \d+\) drained$/.test(l)).length).toBe(master.count('drain.finished'));
  });
});
