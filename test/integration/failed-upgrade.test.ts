/**
 * A new version that cannot serve is rejected, and the old one keeps serving
 * without one failed request: the new worker's listener is held back until
 * its whole generation is ready, so it never accepted a connection to drop.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type Behaviour, makeApp } from '../helpers/app.js';
import { startLoad } from '../helpers/load.js';
import { baseArgs, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Case {
  readonly name: string;
  readonly behaviour: Behaviour;
  readonly reason: string;
  readonly code?: number;
  readonly args?: readonly string[];
}

const cases: readonly Case[] = [
  { name: 'throws at start-up', behaviour: 'throw-at-start', reason: 'exited-before-ready', code: 1 },
  { name: 'exits right after listening', behaviour: 'exit-after-listen', reason: 'exited-before-ready', code: 1 },
  // Nothing to do, so it ends as under plain node: at once, not at the ready timeout.
  { name: 'is an empty file', behaviour: 'empty', reason: 'exited-before-ready', code: 0 },
  { name: 'hangs its event loop after listening', behaviour: 'hang-after-listen', reason: 'ready-timeout', args: ['--ready-timeout', '1500'] },
  { name: 'serves but never says ready (--wait-ready)', behaviour: 'serve-never-ready', reason: 'ready-timeout', args: ['--wait-ready', '--ready-timeout', '1500'] },
  { name: 'listens on another port', behaviour: 'other-port', reason: 'missing-listeners' },
];

describe('a failed upgrade keeps the old version serving', () => {
  it.each(cases)('new version $name → $reason, zero failed requests', async ({ behaviour, reason, code, args = [] }) => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2', ...args), { env: { OTHER_PORT: String(await freePort()) } });
    const ready = await master.waitFor('master.ready');
    const load = await startLoad(await master.url(), { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1');

    app.deploy('v2', behaviour);
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    const failed = await master.waitFor('upgrade.failed', undefined, { after: mark });
    expect(failed.reason).toBe(reason);
    if (code !== undefined) expect(failed.code).toBe(code);
    if (behaviour === 'empty') expect(failed.durationMs as number).toBeLessThan(5_000); // ready timeout: 30 s

    // Still the old workers, still answering.
    await load.waitForVersion('v1', { minCount: 500 });
    const report = await load.stop();
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(Object.keys(report.versions)).toEqual(['v1']);
    for (const pid of ready.pids as number[]) expect(isAlive(pid)).toBe(true);
    expect(master.count('drain.started')).toBe(0);
    expect(isAlive(master.pid)).toBe(true);

    // Every worker of the rejected generation is gone.
    for (const worker of master.events.filter((e) => e.event === 'worker.spawned' && e.generation === 2)) {
      await master.waitFor('worker.exited', (e) => e.workerId === worker.workerId);
      expect(isAlive(worker.pid as number)).toBe(false);
    }
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
  });

  it('reports the new worker\'s last stderr lines with the failure', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    app.deploy('v2', 'throw-at-start');
    process.kill(master.pid, 'SIGUSR2');
    const failed = await master.waitFor('upgrade.failed');
    expect((failed.stderr as string[]).join('\n')).toContain('boom: v2 cannot start');
  });

  it.each<[string, Behaviour, string[], RegExp]>([
    [
      'listens on port 0 instead of PORT', 'port-zero', [],
      /^worker \d+ was not ready in 1500 ms: it listened on (\[::\]|0\.0\.0\.0):\d+ \(port 0, not an address the master holds\) and never on 127\.0\.0\.1:\d+$/,
    ],
    ['never calls listen()', 'never-listen', [], /^worker \d+ was not ready in 1500 ms: it never called listen\(\) \(the master holds 127\.0\.0\.1:\d+ for it\)$/],
    ['listens but never says ready (--wait-ready)', 'serve-never-ready', ['--wait-ready'], /^worker \d+ was not ready in 1500 ms: it listened on 127\.0\.0\.1:\d+ but never said ready/],
  ])('a new version that %s: `overseer upgrade` says what it did instead', async (_label, behaviour, args, reason) => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--ready-timeout', '1500', ...args));
    await master.waitFor('master.ready');
    app.deploy('v2', behaviour);
    const result = await master.cli(['upgrade']);
    const failed = await master.waitFor('upgrade.failed');
    expect(failed.reason).toBe('ready-timeout');
    expect(failed.message).toMatch(reason);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`: ready-timeout: ${failed.message as string}; the old generation keeps serving`);
    if (behaviour === 'port-zero') {
      // The port it names is the one the app really listened on, also logged as it happened.
      const port = /listening on port (\d+)/.exec(await master.waitForOutput(/listening on port \d+/))![1];
      expect(failed.message).toContain(`:${port} (port 0`);
      expect(master.count('listener.own', (e) => (e.address as { port: number }).port === Number(port) && e.via === 'port-0')).toBe(1);
    }
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
  });

  it('recovers with a good upgrade after a failed one', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    app.deploy('v2', 'syntax-error');
    process.kill(master.pid, 'SIGUSR2');
    expect((await master.waitFor('upgrade.failed')).reason).toBe('exited-before-ready');
    app.deploy('v3');
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    await master.upgraded(mark);
    const res = await fetch(await master.url(), { headers: { connection: 'close' } });
    expect(res.headers.get('x-version')).toBe('v3');
  });
});
