/**
 * `--exec`: a program that is not Node (test/fixtures/exec-server.py, run by
 * the machine's python3) gets the master's socket the systemd way and is
 * upgraded with zero downtime, like a Node app.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getVersion } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { BIN, ROOT, startMaster } from '../helpers/master.js';
import { isAlive, tempDir, track } from '../helpers/processes.js';

const SERVER = `${ROOT}test/fixtures/exec-server.py`;
/** Stands in for systemd: passes a listening socket named `web` to the master. */
const ACTIVATE = `${ROOT}test/fixtures/socket-activate.py`;

type Behaviour = 'ok' | 'no-ready' | 'exit-before-ready';

/** The fixture's config file; rewriting it is a deploy (it is read at each start). */
function makeConfig(version: string, behaviour: Behaviour = 'ok') {
  const path = join(tempDir('overseer-exec-'), 'app.json');
  const deploy = (v: string, b: Behaviour = 'ok') => writeFileSync(path, JSON.stringify({ version: v, behaviour: b }));
  deploy(version, behaviour);
  return { path, deploy };
}

/** `python3` is a bare name: the master finds it in PATH, as execvp would. */
function execArgs(config: string, ...extra: string[]): string[] {
  return ['start', 'python3', '--exec', '--listen', '127.0.0.1:0', '--log-format', 'json', ...extra, '--', SERVER, config];
}

/** GET on a fresh connection (no idle keep-alive left to slow a drain), body as text. */
function getText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
  });
}

describe('--exec: any program as a worker', () => {
  it('upgrades a python server under load with zero failed requests', async () => {
    const config = makeConfig('v1');
    const master = startMaster(execArgs(config.path, '--workers', '2', '--drain-timeout', '10000'));
    const ready = await master.waitFor('master.ready');
    const port = await master.port();

    // The activation contract, as the program saw it (it also exits 3 unless LISTEN_PID is its pid).
    const env = JSON.parse((await getText(await master.url('/env'))).body) as Record<string, unknown>;
    expect(ready.pids).toContain(env.pid);
    expect(env).toMatchObject({
      LISTEN_PID: String(env.pid), LISTEN_FDS: '1', LISTEN_FDNAMES: `127.0.0.1_${port}`,
      OVERSEER_READY_FD: '4', OVERSEER_GENERATION: '1', PORT: String(port),
    });

    const load = await startLoad(await master.url(), { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1', { minCount: 200 });
    config.deploy('v2');
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    const done = await master.upgraded(mark);
    await load.waitForVersion('v2', { minCount: 300 });
    const report = await load.stop();

    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.byLoop.keepalive.total).toBeGreaterThan(0);
    expect(report.byLoop.fresh.total).toBeGreaterThan(0);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2']);
    expect(await getVersion(await master.url())).toBe('v2');
    // The old programs drained themselves on SIGTERM and are gone.
    for (const pid of ready.pids as number[]) {
      const finished = await master.waitFor('drain.finished', (e) => e.pid === pid);
      expect(finished.code).toBe(0);
      expect(finished.forced).toBeUndefined();
      expect(isAlive(pid)).toBe(false);
    }
    expect(done.pids).toHaveLength(2);

    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
  });

  it('holds connections in the backlog while no program is alive; none is accepted and dropped', async () => {
    const config = makeConfig('v1');
    const master = startMaster(execArgs(config.path, '--restart-delay', '800'));
    const ready = await master.waitFor('master.ready');
    const url = await master.url();
    const [victim] = ready.pids as number[];
    process.kill(victim!, 'SIGKILL');
    await master.waitFor('worker.exited', (e) => e.pid === victim);
    // Nothing accepts now: not the master, not the helper that made the socket listen.
    const during = Promise.all(Array.from({ length: 10 }, () => getText(url)));
    const live = await master.waitFor('worker.live', (e) => e.pid !== victim);
    const answers = await during;
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.body))).toEqual(new Set([`v1 pid=${live.pid}\n`]));
  });

  it('--ready-delay: a program that never writes READY=1 is ready after the delay', async () => {
    const config = makeConfig('v1', 'no-ready');
    const master = startMaster(execArgs(config.path, '--ready-delay', '400'));
    const ready = await master.waitFor('worker.ready');
    expect(ready.startupMs as number).toBeGreaterThanOrEqual(390);
    await master.waitFor('master.ready');
    expect(await getVersion(await master.url())).toBe('v1');

    config.deploy('v2', 'no-ready');
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    await master.upgraded(mark);
    expect(await getVersion(await master.url())).toBe('v2');
  });

  it('a new program that exits before ready fails the upgrade; the old one serves on, zero failed', async () => {
    const config = makeConfig('v1');
    const master = startMaster(execArgs(config.path));
    const ready = await master.waitFor('master.ready');
    const load = await startLoad(await master.url(), { keepalive: 2, fresh: 2 });
    await load.waitForVersion('v1', { minCount: 100 });

    config.deploy('v2', 'exit-before-ready');
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    const failed = await master.waitFor('upgrade.failed', undefined, { after: mark });
    expect(failed).toMatchObject({ reason: 'exited-before-ready', code: 3 });
    expect((failed.stderr as string[]).join('\n')).toContain('exec-server v2: giving up before ready');

    await load.waitForVersion('v1', { minCount: 200 });
    const report = await load.stop();
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(Object.keys(report.versions)).toEqual(['v1']);
    expect(isAlive((ready.pids as number[])[0]!)).toBe(true);
  });

  it('under systemd socket activation needs no --listen, and passes systemd\'s socket name on', async () => {
    const config = makeConfig('v1');
    const master = startMaster(['start', 'python3', '--exec', '--log-format', 'json', '--', SERVER, config.path], { launcher: ['python3', ACTIVATE] });
    const started = await master.waitFor('master.started');
    track(started.pid as number);
    await master.waitFor('master.ready');
    const env = JSON.parse((await getText(await master.url('/env'))).body) as Record<string, unknown>;
    expect(env).toMatchObject({ LISTEN_PID: String(env.pid), LISTEN_FDS: '1', LISTEN_FDNAMES: 'web' });
    process.kill(started.pid as number, 'SIGTERM');
    await master.waitForOutput(/^activation exited code=0$/);
  });

  it.each([
    { name: 'no socket to hand over', args: ['start', 'python3', '--exec'], message: /--exec needs a socket to hand over: give --listen/ },
    { name: 'a program not in PATH', args: ['start', 'no-such-program-overseer', '--exec', '--listen', '127.0.0.1:0'], message: /--exec: program not found: no-such-program-overseer/ },
    { name: 'a missing program path', args: ['start', './nope/server', '--exec', '--listen', '127.0.0.1:0'], message: /--exec: program not found: \.\/nope\/server/ },
    { name: '--wait-ready', args: ['start', 'python3', '--exec', '--wait-ready', '--listen', '127.0.0.1:0'], message: /--wait-ready does not apply with --exec/ },
    { name: '--node-arg', args: ['start', 'python3', '--exec', '--node-arg=--inspect', '--listen', '127.0.0.1:0'], message: /--node-arg does not apply with --exec .*got `--inspect`/ },
  ])('bad input: $name → exit 2 with one line', ({ args, message }) => {
    const dir = tempDir('overseer-exec-cli-');
    const result = spawnSync(process.execPath, [BIN, ...args, '--pid-file', join(dir, 'm.pid')], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
    const stderr = result.stderr.trim();
    expect(stderr).toMatch(message);
    expect(stderr.split('\n')).toHaveLength(1);
    expect(result.status).toBe(2);
    expect(result.stdout).not.toContain('worker.spawned');
  });
});
