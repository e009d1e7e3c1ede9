/**
 * The control socket and the commands that use it: `overseer upgrade` waits
 * for the outcome and says it with its exit code; `status` reports what runs;
 * `stop` returns once the master is gone. The socket is private and survives
 * any request a client can send.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MasterRun, baseArgs, runCli, startMaster } from '../helpers/master.js';
import { appSource, makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { isAlive, tempDir } from '../helpers/processes.js';

const socketOf = (master: MasterRun, name = 'overseer') => join(master.runtimeDir, 'overseer', `${name}.sock`);

/** Send raw bytes on the control socket; resolve with every line the master answered before closing. */
function rawExchange(path: string, payload: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\n').filter((l) => l !== '')));
    socket.on('connect', () => socket.write(payload));
  });
}

describe('overseer upgrade', () => {
  it('exits 0 once the new generation is live, and prints its generation, pids and time', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'));
    await master.waitFor('master.ready');
    const load = await startLoad(await master.url(), { keepalive: 2, fresh: 1 });
    await load.waitForVersion('v1');

    app.deploy('v2');
    const human = await master.cli(['upgrade']);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^overseer: generation 2 is live after \d+ ms \(worker pids \d+, \d+\)\n$/);
    const spawned = master.events.filter((e) => e.event === 'worker.spawned' && e.generation === 2).map((e) => e.pid);
    expect(human.stdout).toContain(spawned.join(', '));
    await load.waitForVersion('v2');

    app.deploy('v3');
    const json = await master.cli(['upgrade', '--json']);
    expect(json.code).toBe(0);
    const outcome = JSON.parse(json.stdout) as { ok: boolean; generation: number; pids: number[]; durationMs: number };
    expect(outcome).toMatchObject({ ok: true, generation: 3 });
    expect(outcome.pids).toHaveLength(2);
    await load.waitForVersion('v3');
    expect((await load.stop()).failed).toBe(0);
  });

  it('exits 1 for a new version that crashes, with the exit code and its last stderr lines; the old one keeps serving', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    app.deploy('v2', 'throw-at-start');
    const result = await master.cli(['upgrade']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('upgrade to generation 2 failed');
    expect(result.stderr).toContain('exited-before-ready');
    expect(result.stderr).toContain('(code 1)');
    expect(result.stderr).toMatch(/\| .*boom: v2 cannot start/);
    expect(await getVersion(await master.url())).toBe('v1');

    const json = await master.cli(['upgrade', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, generation: 3, reason: 'exited-before-ready', code: 1 });
  });

  it('exits 1 with ready-timeout for a new version that never gets ready', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--wait-ready', '--ready-timeout', '400'));
    await master.waitFor('master.ready');
    app.deploy('v2', 'serve-never-ready');
    const result = await master.cli(['upgrade', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: 'ready-timeout' });
    expect(await getVersion(await master.url())).toBe('v1');
  });

  it('answers two concurrent requests: the second waits for the coalesced follow-up', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--wait-ready'));
    await master.waitFor('master.ready');
    // A version that takes a while to get ready keeps the first upgrade
    // running while the second request arrives.
    writeFileSync(app.script, appSource('v2').replace(`process.send('ready')`, `setTimeout(() => process.send('ready'), 800)`));
    const first = master.cli(['upgrade', '--json']);
    await master.waitFor('upgrade.started');
    const second = master.cli(['upgrade', '--json']);
    const [a, b] = await Promise.all([first, second]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ ok: true, generation: 2 });
    expect(JSON.parse(b.stdout)).toMatchObject({ ok: true, generation: 3 });
    expect(master.count('upgrade.coalesced')).toBe(1);
  });

  it('exits 2 when no master answers: no socket, or a stale one nobody accepts on', async () => {
    const dir = tempDir('overseer-run-');
    const none = await runCli(['upgrade'], { cwd: dir, env: { XDG_RUNTIME_DIR: dir, PWD: dir } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(new RegExp(`^overseer: no master answers: no control socket at ${join(dir, 'overseer', 'overseer.sock')} or .*/overseer-\\d+/overseer\\.sock\n$`));

    // A master that was SIGKILLed leaves its socket file behind.
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    process.kill(master.pid, 'SIGKILL');
    await master.exited;
    expect(existsSync(socketOf(master))).toBe(true);
    const stale = await master.cli(['status']);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/^overseer: no master answers on .*overseer\.sock \(ECONNREFUSED\)\n$/);
  });

  it('--timeout gives up with exit 1 and says the outcome is unknown', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--wait-ready', '--ready-timeout', '5000'));
    await master.waitFor('master.ready');
    app.deploy('v2', 'serve-never-ready');
    const result = await master.cli(['upgrade', '--timeout', '200']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('overseer: no answer within 200 ms\n');
    const bad = await master.cli(['upgrade', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('overseer: --timeout must be an integer >= 1 (ms), got `soon`\n');
  });
});

describe('overseer status', () => {
  it('--json reports the master, its listeners, the workers and the last upgrade', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2', '--name', 'api'));
    const ready = await master.waitFor('master.ready');
    const before = await master.cli(['status', '--name', 'api', '--json']);
    expect(before.code).toBe(0);
    const s1 = JSON.parse(before.stdout);
    expect(s1).toMatchObject({
      pid: master.pid, name: 'api', state: 'running', generation: 1, listeners: [`127.0.0.1:${await master.port()}`],
      starting: [], draining: [], upgrading: false, lastUpgrade: null,
    });
    expect(s1.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(s1.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(s1.workers.map((w: { pid: number }) => w.pid)).toEqual(ready.pids);
    for (const w of s1.workers) {
      expect(w).toMatchObject({ generation: 1, state: 'live', restarts: 0 });
      expect(w.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(w.uptimeMs).toBeGreaterThanOrEqual(0);
    }

    app.deploy('v2');
    expect((await master.cli(['upgrade', '--name', 'api'])).code).toBe(0);
    const s2 = JSON.parse((await master.cli(['status', '--name', 'api', '--json'])).stdout);
    expect(s2.generation).toBe(2);
    expect(s2.lastUpgrade).toMatchObject({ ok: true, generation: 2, trigger: 'control' });
    expect(s2.workers.every((w: { generation: number }) => w.generation === 2)).toBe(true);

    const human = await master.cli(['status', '--name', 'api']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`api: master pid ${master.pid}`);
    expect(human.stdout).toMatch(/generation 2: 2 workers/);
    expect(human.stdout).toMatch(/last upgrade: generation 2 live after \d+ ms \(control/);
  });

  it('counts crash restarts per worker slot', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--restart-delay', '10'));
    const ready = await master.waitFor('master.ready');
    process.kill((ready.pids as number[])[0]!, 'SIGKILL');
    const replaced = await master.waitFor('worker.live', (e) => e.generation === 1 && e.pid !== (ready.pids as number[])[0]);
    const status = JSON.parse((await master.cli(['status', '--json'])).stdout);
    expect(status.workers).toEqual([expect.objectContaining({ pid: replaced.pid, restarts: 1, state: 'live' })]);
  });
});

describe('overseer stop', () => {
  it('returns once the master has exited; the control socket and the PID file are gone', async () => {
    const app = makeApp('v1');
    const pidFile = join(tempDir(), 'app.pid');
    const master = startMaster(baseArgs(app.script, '--pid-file', pidFile));
    const ready = await master.waitFor('master.ready');
    expect(existsSync(socketOf(master))).toBe(true);
    const result = await master.cli(['stop', '--json']);
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout);
    expect(answer).toMatchObject({ stopped: true, pid: master.pid });
    expect(answer.durationMs).toBeGreaterThanOrEqual(0);
    // The claim is "the master has exited", checked without waiting on anything.
    expect(isAlive(master.pid)).toBe(false);
    for (const pid of ready.pids as number[]) expect(isAlive(pid)).toBe(false);
    expect(existsSync(socketOf(master))).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect((await master.exited).code).toBe(0);

    const again = await master.cli(['stop']);
    expect(again.code).toBe(2);
  });
});

describe('the control socket', () => {
  it('is mode 0600 in a 0700 directory', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    expect(statSync(socketOf(master)).mode & 0o777).toBe(0o600);
    expect(statSync(join(master.runtimeDir, 'overseer')).mode & 0o777).toBe(0o700);
    expect(statSync(socketOf(master)).isSocket()).toBe(true);
  });

  it('answers malformed, oversized and unknown requests with an error and stays up', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    const path = socketOf(master);
    const errorOf = (lines: string[]) => {
      expect(lines).toHaveLength(1);
      return JSON.parse(lines[0]!) as { v: number; id: number | null; type: string; error: { code: string; message: string } };
    };
    expect(errorOf(await rawExchange(path, 'not json\n'))).toMatchObject({ v: 1, id: null, type: 'error', error: { code: 'bad-json' } });
    expect(errorOf(await rawExchange(path, '[1,2]\n')).error.code).toBe('bad-request');
    expect(errorOf(await rawExchange(path, '{"v":1,"type":"status"}\n')).error.code).toBe('bad-request');
    expect(errorOf(await rawExchange(path, '{"v":2,"id":5,"type":"status"}\n'))).toMatchObject({ id: 5, error: { code: 'unsupported-version' } });
    expect(errorOf(await rawExchange(path, '{"v":1,"id":6,"type":"reboot"}\n'))).toMatchObject({ id: 6, error: { code: 'unknown-request' } });
    // No newline in sight and already too long: refused without waiting for the end.
    expect(errorOf(await rawExchange(path, 'x'.repeat(64 * 1024))).error.code).toBe('request-too-large');
    expect(errorOf(await rawExchange(path, `{"v":1,"id":7,"type":"status","pad":"${'y'.repeat(5000)}"}\n`)).error.code).toBe('request-too-large');
    // A client that connects and vanishes mid-request.
    await new Promise<void>((resolve) => {
      const s = net.connect(path, () => {
        s.write('{"v":1,"id":8,"ty');
        s.destroy();
        resolve();
      });
    });
    // The master is fine and still answers well-formed requests.
    const ok = await rawExchange(path, '{"v":1,"id":9,"type":"status"}\n{"v":1,"id":10,"type":"nope"}\n');
    expect(JSON.parse(ok[0]!)).toMatchObject({ id: 9, type: 'result', result: { pid: master.pid } });
    expect(JSON.parse(ok[1]!)).toMatchObject({ id: 10, type: 'error' });
    expect(isAlive(master.pid)).toBe(true);
    expect(master.count('control.rejected')).toBeGreaterThanOrEqual(7);
    expect(await getVersion(await master.url())).toBe('v1');
  });

  it('a second master with the same name is "already running" and starts nothing; a stale socket is replaced', async () => {
    const app = makeApp('v1');
    const first = startMaster(baseArgs(app.script));
    await first.waitFor('master.ready');
    const second = startMaster(baseArgs(app.script), { env: { XDG_RUNTIME_DIR: first.runtimeDir } });
    expect((await second.exited).code).toBe(1);
    expect(second.stderr).toBe(`overseer: a master is already running on control socket ${socketOf(first)}: already running\n`);
    expect(second.events.map((e) => e.event)).not.toContain('master.started');
    expect(second.events.map((e) => e.event)).not.toContain('worker.spawned');

    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    const third = startMaster(baseArgs(app.script), { env: { XDG_RUNTIME_DIR: first.runtimeDir } });
    await third.waitFor('master.ready');
    const status = await third.cli(['status', '--json']);
    expect(JSON.parse(status.stdout).pid).toBe(third.pid);
  });

  it('refuses a path over the OS limit, and a path that is not a socket', async () => {
    const app = makeApp('v1');
    const long = join(tempDir(), 'x'.repeat(120), 'control.sock');
    const tooLong = startMaster(baseArgs(app.script, '--control', long));
    expect((await tooLong.exited).code).toBe(2);
    expect(tooLong.stderr).toMatch(/^overseer: --control .*control\.sock is \d+ bytes long, over the 107-byte limit for unix socket paths on this OS\n$/);

    const file = join(tempDir(), 'not-a-socket');
    writeFileSync(file, 'precious');
    const notSocket = startMaster(baseArgs(app.script, '--control', file));
    expect((await notSocket.exited).code).toBe(1);
    expect(notSocket.stderr).toContain(`control socket path ${file} exists and is not a socket`);
    expect(notSocket.events.map((e) => e.event)).not.toContain('worker.spawned');
  });
});
