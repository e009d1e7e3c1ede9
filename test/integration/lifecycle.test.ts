/** The PID file, and stopping at once on a second stop signal. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { BIN, baseArgs, startMaster } from '../helpers/master.js';
import { isAlive, tempDir } from '../helpers/processes.js';


describe('PID file', () => {
  it('holds the master pid while it runs and is removed on a graceful stop', async () => {
    const pidFile = join(tempDir('overseer-life-'), 'master.pid');
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--pid-file', pidFile));
    await master.waitFor('master.ready');
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(master.pid));
    process.kill(master.pid, 'SIGUSR2');
    await master.waitFor('upgrade.succeeded');
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(master.pid)); // stable across upgrades
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('replaces a stale PID file and refuses one that names a live process', async () => {
    const dir = tempDir('overseer-life-');
    const pidFile = join(dir, 'master.pid');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(pidFile, `${dead}\n`);
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--pid-file', pidFile));
    await master.waitFor('master.ready');
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(master.pid));

    const second = spawnSync(process.execPath, [BIN, ...baseArgs(app.script, '--pid-file', pidFile)], { encoding: 'utf8', timeout: 15_000 });
    expect(second.status).toBe(1);
    expect(second.stderr.trim()).toMatch(new RegExp(`^overseer: --pid-file .* names a running process \\(pid ${master.pid}\\): already running$`));
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(master.pid));
  });
});

describe('second stop signal', () => {
  it('stops at once: workers get SIGKILL, the master exits 1', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', '60000'));
    const ready = await master.waitFor('master.ready');
    const url = await master.url('/slow?ms=60000');
    const stuck = new Promise<string>((resolve) => {
      http.get(url, { agent: false }, () => resolve('answered')).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    await master.waitForOutput(/slow request started/);
    process.kill(master.pid, 'SIGTERM');
    await master.waitFor('drain.started');
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(1);
    expect(await stuck).toBe('ECONNRESET');
    expect((ready.pids as number[]).filter(isAlive)).toEqual([]);
    expect(master.events.find((e) => e.event === 'master.stopping' && e.graceful === false)).toBeDefined();
  });
});
