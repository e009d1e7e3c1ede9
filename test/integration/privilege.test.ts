/**
 * `--user` / `--group`: the master (root) binds a privileged port; the
 * workers run as the given user, with no supplementary groups, across
 * upgrades, and get from the master only the `--listen` sockets plus what
 * they could bind themselves. Needs root; skipped otherwise, with the reason
 * printed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, baseArgs, startMaster } from '../helpers/master.js';
import { makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { canBind } from '../helpers/procfs.js';
import { NOBODY, cannotRunAs, isRoot, worldReadableInstall } from '../helpers/other-users.js';
import { tempDir } from '../helpers/processes.js';

/** Overseer where nobody can read it, whatever the checkout's permissions (other-users.ts). */
const install = isRoot ? worldReadableInstall() : undefined;
const skipped = !isRoot
  ? 'they need root (the master must be root to switch the workers to another user)'
  : cannotRunAs(NOBODY, install!);
const runnable = skipped === undefined;
if (!runnable) console.warn(`privilege tests skipped: ${skipped}`);
const bin = install?.bin ?? BIN;

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

/** A free port >= 1024 (nobody may bind it). */
function freeHighPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A directory nobody can enter, with `shared/`: world-writable and sticky, like /tmp. */
function sharedLayout(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'shared'));
  chmodSync(join(dir, 'shared'), 0o1777);
  return { dir, env: {} };
}

/** A unix socket file at `path`, owned by root, that nobody accepts on (its process was SIGKILLed). */
function leaveStaleSocket(path: string): void {
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], { timeout: 10_000 });
  expect(lstatSync(path).isSocket()).toBe(true);
}

const SERVE = `
const http = require('node:http');
const serve = () => http.createServer((req, res) => res.end('uid ' + process.getuid() + '\\n'));
serve().listen(process.env.PORT);
`;

/** Asks for three things nobody may not have; prints the error code of each. */
function refusingApp(dir: string): string {
  const script = join(dir, 'refusing.js');
  writeFileSync(script, `${SERVE}
for (const [name, args] of [
  ['privileged', [Number(process.env.PRIVILEGED_PORT), '127.0.0.1']],
  ['root-only', [process.env.ROOT_ONLY_PATH]],
  ['stale', [process.env.STALE_PATH]],
]) serve().listen(...args).on('error', (error) => console.log(name + ': ' + error.code)).on('listening', () => console.log(name + ': listening'));
`);
  return script;
}

/** Asks for a high port and a path in a shared directory. */
function allowedApp(dir: string): string {
  const script = join(dir, 'allowed.js');
  writeFileSync(script, `${SERVE}
for (const [name, args] of [['high', [Number(process.env.HIGH_PORT), '127.0.0.1']], ['unix', [process.env.UNIX_PATH]]]) {
  serve().listen(...args).on('error', (error) => console.log(name + ': ' + error.code)).on('listening', () => console.log(name + ': listening'));
}
`);
  return script;
}

function body(target: http.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ ...target, path: '/', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
    }).on('error', reject);
  });
}

describe.skipIf(!runnable)('--user / --group (as root)', () => {
  it('binds a privileged port as root and runs every generation of workers as nobody', async () => {
    const app = makeApp('v1');
    chmodSync(app.dir, 0o755); // the workers, as nobody, must read the app
    const port = await freePrivilegedPort();
    const master = startMaster(['start', app.script, '--listen', `127.0.0.1:${port}`, '--log-format', 'json', '--workers', '2', '--user', 'nobody'], { bin });
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
    const master = startMaster(baseArgs(app.script, '--user', String(NOBODY), '--group', 'root'), { bin });
    const ready = await master.waitFor('master.ready');
    expect(identity((ready.pids as number[])[0]!)).toMatchObject({ uid: NOBODY, gid: 0 });
  });

  it('a worker as nobody cannot get a privileged port, a path in a root-only directory, or a root-owned stale socket removed', async () => {
    const { dir, env } = sharedLayout();
    const rootOnly = join(dir, 'rootonly');
    mkdirSync(rootOnly, { mode: 0o700 });
    const stale = join(dir, 'shared', 'stale.sock');
    leaveStaleSocket(stale);
    const port = await freePrivilegedPort();
    const master = startMaster(baseArgs(refusingApp(dir), '--user', 'nobody'), {
      env: { ...env, PRIVILEGED_PORT: String(port), ROOT_ONLY_PATH: join(rootOnly, 'planted.sock'), STALE_PATH: stale },
      bin,
    });
    await master.waitFor('master.ready');
    // As under plain node as nobody: EACCES from bind(2), EADDRINUSE for a socket file it cannot remove.
    expect(await master.waitForOutput(/^privileged: /)).toBe('privileged: EACCES');
    expect(await master.waitForOutput(/^root-only: /)).toBe('root-only: EACCES');
    expect(await master.waitForOutput(/^stale: /)).toBe('stale: EADDRINUSE');
    expect(await canBind(port)).toBe(true); // never bound on the worker's behalf
    expect(existsSync(join(rootOnly, 'planted.sock'))).toBe(false);
    expect(lstatSync(stale)).toMatchObject({ uid: 0 }); // still there, still root's
    expect(master.count('listener.bound')).toBe(0);
  });

  it('a worker as nobody still gets what nobody may bind: a high port and a path in a shared directory, bound as nobody', async () => {
    const { dir, env } = sharedLayout();
    const unixPath = join(dir, 'shared', 'app.sock');
    const high = await freeHighPort();
    const master = startMaster(baseArgs(allowedApp(dir), '--user', 'nobody'), { env: { ...env, HIGH_PORT: String(high), UNIX_PATH: unixPath }, bin });
    await master.waitFor('master.ready');
    expect(await master.waitForOutput(/^high: /)).toBe('high: listening');
    expect(await master.waitForOutput(/^unix: /)).toBe('unix: listening');
    expect(await body({ port: high, host: '127.0.0.1' })).toBe(`uid ${NOBODY}\n`);
    expect(await body({ socketPath: unixPath })).toBe(`uid ${NOBODY}\n`);
    expect(lstatSync(unixPath)).toMatchObject({ uid: NOBODY }); // created by nobody, not by the root master
    expect(master.count('listener.bound')).toBe(2);
  });

  it('a master that is not root cannot switch users: one line naming --user, exit 2', () => {
    const result = spawnSync(process.execPath, [bin, ...baseArgs(`${install!.root}examples/hello/server.js`, '--user', 'root')], {
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
