/**
 * How users deploy: swapping a `current -> releases/N` symlink, serving on a
 * unix socket, and sending many signals at once.
 */
import { existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appSource, makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { baseArgs, startMaster } from '../helpers/master.js';
import { tempDir } from '../helpers/processes.js';


describe('deploys', () => {
  it('runs the new release after the `current` symlink is swapped', async () => {
    const root = tempDir('overseer-deploy-');
    for (const n of ['1', '2']) {
      mkdirSync(join(root, 'releases', n), { recursive: true });
      writeFileSync(join(root, 'releases', n, 'package.json'), '{ "type": "commonjs" }\n');
      writeFileSync(join(root, 'releases', n, 'server.js'), appSource(`release-${n}`));
    }
    symlinkSync(join(root, 'releases', '1'), join(root, 'current'));
    const master = startMaster(baseArgs('current/server.js'), { cwd: root });
    const spawned = await master.waitFor('worker.spawned');
    expect(spawned.script).toBe(join(root, 'releases', '1', 'server.js'));
    await master.waitFor('master.ready');
    const url = await master.url();

    // Atomic swap, as deploy tools do it: a new link renamed over the old.
    symlinkSync(join(root, 'releases', '2'), join(root, 'current.new'));
    renameSync(join(root, 'current.new'), join(root, 'current'));
    process.kill(master.pid, 'SIGHUP');
    const done = await master.upgraded();
    const next = master.events.find((e) => e.event === 'worker.spawned' && e.generation === done.generation);
    expect(next?.script).toBe(join(root, 'releases', '2', 'server.js'));
    const res = await fetch(url, { headers: { connection: 'close' } });
    expect(res.headers.get('x-version')).toBe('release-2');
  });

  it('re-resolves its working directory when started inside the `current` symlink', async () => {
    const root = tempDir('overseer-deploy-');
    for (const n of ['1', '2']) {
      mkdirSync(join(root, 'releases', n), { recursive: true });
      writeFileSync(join(root, 'releases', n, 'package.json'), '{ "type": "commonjs" }\n');
      writeFileSync(join(root, 'releases', n, 'server.js'), `${appSource(`release-${n}`)}console.log('cwd ' + process.cwd());\n`);
    }
    const current = join(root, 'current');
    symlinkSync(join(root, 'releases', '1'), current);
    // As after `cd /srv/app/current`: the shell's PWD keeps the symlink.
    const master = startMaster(baseArgs('server.js'), { cwd: current, env: { PWD: current } });
    await master.waitFor('master.ready');
    expect(await master.waitForOutput(/^cwd /)).toBe(`cwd ${join(root, 'releases', '1')}`);

    symlinkSync(join(root, 'releases', '2'), join(root, 'current.new'));
    renameSync(join(root, 'current.new'), current);
    process.kill(master.pid, 'SIGHUP');
    await master.upgraded();
    expect(await getVersion(await master.url())).toBe('release-2');
    expect(master.output).toContain(`cwd ${join(root, 'releases', '2')}`);
  });

  it('serves an app that listens on a unix socket path, and removes the socket on stop', async () => {
    const dir = tempDir('overseer-deploy-');
    const socket = join(dir, 'app.sock');
    const app = makeApp('v1');
    writeFileSync(app.script, appSource('v1').replace('process.env.PORT', 'process.env.APP_SOCKET'));
    const master = startMaster(['start', app.script, '--log-format', 'json'], { env: { APP_SOCKET: socket } });
    const bound = await master.waitFor('listener.bound');
    expect(bound.address).toEqual({ kind: 'unix', path: socket });
    await master.waitFor('master.ready');
    expect(await getVersion({ socketPath: socket })).toBe('v1');

    writeFileSync(app.script, appSource('v2').replace('process.env.PORT', 'process.env.APP_SOCKET'));
    process.kill(master.pid, 'SIGUSR2');
    await master.upgraded();
    expect(await getVersion({ socketPath: socket })).toBe('v2');

    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it('passes script args, --node-arg and PORT to the workers, and leaves listen(0) alone', async () => {
    const app = makeApp('v1');
    writeFileSync(
      app.script,
      `${appSource('v1')}
const metrics = http.createServer().listen(0, '127.0.0.1', () => {
  console.log('worker-env ' + JSON.stringify({
    argv: process.argv.slice(2),
    execArgv: process.execArgv,
    port: process.env.PORT,
    metricsPort: metrics.address().port,
    leaked: Object.keys(process.env).filter((k) => k.startsWith('OVERSEER_')),
  }));
});
`,
    );
    const master = startMaster([...baseArgs(app.script, '--node-arg=--max-old-space-size=123', '--name', 'api'), '--', '--mode', 'blue']);
    const port = await master.port();
    const line = await master.waitForOutput(/^worker-env /);
    const env = JSON.parse(line.slice('worker-env '.length)) as { argv: string[]; execArgv: string[]; port: string; metricsPort: number; leaked: string[] };
    expect(env.argv).toEqual(['--mode', 'blue']);
    expect(env.execArgv).toEqual(['--max-old-space-size=123']);
    expect(env.port).toBe(String(port));
    // overseer's own variables stay in the master; the user's own (the test
    // run's OVERSEER_TEST_* included) pass through to the app as they are.
    expect(env.leaked.filter((name) => !(name in process.env))).toEqual([]);
    expect(master.events[0]?.name).toBe('api');
    // listen(0) is the app's own business: a port of its own, not the master's,
    // and the app is ready through its main server as usual.
    expect(env.metricsPort).toBeGreaterThan(0);
    expect(env.metricsPort).not.toBe(port);
    await master.waitFor('master.ready');
    expect(master.count('listener.bound')).toBe(0);
  });
});
