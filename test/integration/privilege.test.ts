/**
 * `--user` / `--group`: the master (root) binds a privileged port; the
 * workers run as the given user, with no supplementary groups, across
 * upgrades. Needs root; skipped otherwise, with the reason printed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, baseArgs, startMaster } from '../helpers/master.js';
import { makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** Can `nobody` run node and read overseer's preload here? (A checkout under a 0700 home cannot.) */
function nobodyCanRun(): boolean {
  if (!isRoot) return false;
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(`${ROOT}dist/worker/preload.js`)})`], {
    uid: NOBODY, gid: NOBODY, cwd: '/', timeout: 10_000,
  });
  return probe.status === 0;
}

const runnable = nobodyCanRun();
if (!runnable) {
  console.warn(isRoot
    ? 'privilege tests skipped: user nobody cannot read this checkout (a parent directory is not world-readable)'
    : 'privilege tests skipped: they need root (the master must be root to switch the workers to another user)');
}

/** Uid, gid and supplementary groups of a process, from /proc. */
function identity(pid: number): { uid: number; gid: number; groups: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => (new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '').trim();
  return { uid: Number(field('Uid').split(/\s+/)[0]), gid: Number(field('Gid').split(/\s+/)[0]), groups: field('Groups') };
}

/** A privileged port that is free on loopback right now. */
async function freePrivilegedPort(): Promise<number> {
  for (let port = 700 + Math.floor(Math.random() * 200); port < 1024; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free privileged port');
}

describe.skipIf(!runnable)('--user / --group (as root)', () => {
  it('binds a privileged port as root and runs every generation of workers as nobody', async () => {
    const app = makeApp('v1');
    chmodSync(app.dir, 0o755); // the workers, as nobody, must read the app
    const port = await freePrivilegedPort();
    const master = startMaster(['start', app.script, '--listen', `127.0.0.1:${port}`, '--log-format', 'json', '--workers', '2', '--user', 'nobody']);
    const ready = await master.waitFor('master.ready');
    expect(identity(master.pid).uid).toBe(0);
    for (const pid of ready.pids as number[]) expect(identity(pid)).toEqual({ uid: NOBODY, gid: NOBODY, groups: '' });
    expect(await getVersion(`http://127.0.0.1:${port}/`)).toBe('v1');

    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    const upgraded = await master.upgraded();
    for (const pid of upgraded.pids as number[]) expect(identity(pid).uid).toBe(NOBODY);
    expect(await getVersion(`http://127.0.0.1:${port}/`)).toBe('v2');
  });

  it('--group overrides the user\'s primary group', async () => {
    const app = makeApp('v1');
    chmodSync(app.dir, 0o755);
    const master = startMaster(baseArgs(app.script, '--user', String(NOBODY), '--group', 'root'));
    const ready = await master.waitFor('master.ready');
    expect(identity((ready.pids as number[])[0]!)).toMatchObject({ uid: NOBODY, gid: 0 });
  });

  it('a master that is not root cannot switch users: one line naming --user, exit 2', () => {
    const result = spawnSync(process.execPath, [BIN, ...baseArgs(`${ROOT}examples/hello/server.js`, '--user', 'root')], {
      uid: NOBODY, gid: NOBODY, cwd: '/', encoding: 'utf8', timeout: 15_000, env: { ...process.env, XDG_RUNTIME_DIR: '' },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`overseer: --user \`root\` needs the master to run as root (it runs as uid ${NOBODY})\n`);
  });
});

describe('--user / --group: bad input', () => {
  it.each([
    [['--user', 'no-such-user-here'], '--user: no such user `no-such-user-here`'],
    [['--group', 'no-such-group-here'], '--group: no such group `no-such-group-here`'],
  ])('%j → one line, exit 2', (extra, message) => {
    const result = spawnSync(process.execPath, [BIN, ...baseArgs(`${ROOT}examples/hello/server.js`, ...extra)], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`overseer: ${message}\n`);
  });
});
