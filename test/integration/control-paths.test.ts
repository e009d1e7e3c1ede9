/**
 * Where the PID file and the control socket go, and whom the client trusts,
 * when other local users share the directories: nothing is removed or
 * followed through a link someone else planted; a runtime directory that
 * is not ours is passed over; a socket that is not ours (or root's) is never
 * spoken to; a default location never stops `start`; and `--pid-file` finds
 * its master wherever its socket is. Tests that need a second user (nobody)
 * run as root and are skipped otherwise, with the reason printed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readFileSync, readdirSync, symlinkSync,
} from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, baseArgs, runCli, startMaster } from '../helpers/master.js';
import { makeApp } from '../helpers/app.js';
import { NOBODY, cannotRunAs, isRoot, worldReadableInstall } from '../helpers/other-users.js';
import { onCleanup, tempDir, track } from '../helpers/processes.js';

if (!isRoot) console.warn('control-paths: tests with a second user skipped: they need root (to create files owned by nobody)');
/** The CLI where nobody can read it, whatever the checkout's permissions (other-users.ts). */
const install = isRoot ? worldReadableInstall() : undefined;
const nobodyCannotRun = install && cannotRunAs(NOBODY, install);
if (nobodyCannotRun) console.warn(`control-paths: the test that runs the client as nobody is skipped: ${nobodyCannotRun}`);

let names = 0;
/** A name of its own per master: as root, default sockets share /run/overseer with other tests. */
const uniqueName = () => `cp${process.pid}-${++names}`;

/** Run `overseer <args>` as another user (async, so this process can keep serving a fake socket). */
async function runCliAs(uid: number, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const proc = spawn(process.execPath, [install!.bin, ...args], { uid, gid: uid, cwd: '/', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(proc.pid);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = await once(proc, 'close');
  return { code: code as number | null, stdout, stderr };
}

/** A fake control socket that answers every request with "generation 99 is live", and counts the bytes it got. */
async function fakeControlSocket(path: string): Promise<{ received: () => number }> {
  let received = 0;
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      const id = (JSON.parse(chunk.toString().split('\n')[0]!) as { id: number }).id;
      socket.end(`${JSON.stringify({ v: 1, id, type: 'result', result: { ok: true, generation: 99, pids: [1], durationMs: 1 } })}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return { received: () => received };
}

describe('where the control socket goes', () => {
  it('a PID file in a deep directory does not stop start: the socket goes elsewhere, and --pid-file finds it', async () => {
    const deep = join(tempDir('overseer-deep-'), 'a'.repeat(60), 'b'.repeat(60));
    mkdirSync(deep, { recursive: true });
    const pidFile = join(deep, 'app.pid');
    const app = makeApp('v1');
    const name = uniqueName();
    // No $XDG_RUNTIME_DIR: the location is the fallback chain's.
    const env = { XDG_RUNTIME_DIR: '', TMPDIR: tempDir('overseer-tmp-') };
    const master = startMaster(baseArgs(app.script, '--pid-file', pidFile, '--name', name), { env });
    await master.waitFor('master.ready');
    const path = (await master.waitFor('control.listening')).path as string;
    expect(path.startsWith(deep)).toBe(false);
    expect(readFileSync(`${pidFile}.control`, 'utf8')).toBe(`${path}\n`);

    const status = await runCli(['status', '--pid-file', pidFile, '--json'], { env });
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ pid: master.pid, name });
    expect((await runCli(['status', '--name', name, '--json'], { env })).code).toBe(0);
    const stop = await runCli(['stop', '--pid-file', pidFile], { env });
    expect(stop.code).toBe(0);
    expect(readdirSync(deep)).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });

  it('--pid-file finds a master started with --pid-file and --control, for status, upgrade and stop', async () => {
    const dir = tempDir('overseer-pf-');
    const pidFile = join(dir, 'app.pid');
    const control = join(tempDir('overseer-ctl-'), 'c.sock');
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--pid-file', pidFile, '--control', control));
    await master.waitFor('master.ready');
    const status = await master.cli(['status', '--pid-file', pidFile, '--json']);
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout).pid).toBe(master.pid);
    app.deploy('v2');
    expect((await master.cli(['upgrade', '--pid-file', pidFile])).code).toBe(0);
    expect((await master.cli(['stop', '--pid-file', pidFile])).code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    const again = await master.cli(['status', '--pid-file', pidFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`overseer: no master answers: no control record at ${pidFile}.control (no master runs with --pid-file ${pidFile})\n`);
  });

  it('a name too long for the runtime directory gets a short hashed socket name, which the client finds', async () => {
    const runtime = join(tempDir('overseer-run-'), 'r'.repeat(50));
    mkdirSync(runtime, { mode: 0o700 });
    const name = `${uniqueName()}-${'n'.repeat(40)}`;
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--name', name), { env: { XDG_RUNTIME_DIR: runtime } });
    await master.waitFor('master.ready');
    expect((await master.waitFor('control.listening')).path).toMatch(new RegExp(`^${runtime}/overseer/[0-9a-f]{16}\\.sock$`));
    expect((await master.cli(['status', '--name', name])).code).toBe(0);
  });

  it('a failed start leaves no directory behind, and a stop removes the empty one it made', async () => {
    const app = makeApp('v1');
    const failed = startMaster(['start', join(app.dir, 'missing.js'), '--listen', '127.0.0.1:0', '--log-format', 'json']);
    expect((await failed.exited).code).toBe(2);
    expect(readdirSync(failed.runtimeDir)).toEqual([]);

    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    expect(readdirSync(master.runtimeDir)).toEqual(['overseer']);
    expect((await master.cli(['stop'])).code).toBe(0);
    expect(readdirSync(master.runtimeDir)).toEqual([]);
  });

  describe.skipIf(!isRoot)('with another user (root only)', () => {
    it('an $XDG_RUNTIME_DIR owned by another user is not used: the fallback is taken and logged', async () => {
      const runtime = tempDir('overseer-run-');
      chownSync(runtime, NOBODY, NOBODY);
      const app = makeApp('v1');
      const name = uniqueName();
      const master = startMaster(baseArgs(app.script, '--name', name), { env: { XDG_RUNTIME_DIR: runtime } });
      await master.waitFor('master.ready');
      const skipped = await master.waitFor('control.dir-skipped');
      expect(skipped).toMatchObject({ dir: join(runtime, 'overseer'), message: `${runtime} is owned by uid ${NOBODY}, not by uid 0` });
      expect((await master.waitFor('control.listening')).path).toBe(`/run/overseer/${name}.sock`);
      expect(readdirSync(runtime)).toEqual([]);
      // The client passes over the same directory and finds the master.
      expect(JSON.parse((await master.cli(['status', '--name', name, '--json'])).stdout).pid).toBe(master.pid);
      expect((await master.cli(['stop', '--name', name])).code).toBe(0);
      expect(existsSync(`/run/overseer/${name}.sock`)).toBe(false);
    });

    it('the client refuses a socket owned by another user, and a link, before sending anything', async () => {
      const dir = tempDir('overseer-shared-');
      chmodSync(dir, 0o1777); // a shared directory, as /tmp
      const path = join(dir, 'control.sock');
      const fake = await fakeControlSocket(path);
      lchownSync(path, NOBODY, NOBODY);
      const result = await runCli(['upgrade', '--control', path]);
      expect(result.stderr).toBe(`overseer: refusing control socket ${path}: it is owned by uid ${NOBODY}, not by you (uid 0) or root\n`);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');

      const link = join(dir, 'link.sock');
      symlinkSync(path, link);
      const viaLink = await runCli(['upgrade', '--control', link]);
      expect(viaLink.stderr).toBe(`overseer: refusing control socket ${link}: it is a symbolic link\n`);
      expect(viaLink.code).toBe(2);
      // A short fixed wait for a negative claim: a connection would have been read by now.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(fake.received()).toBe(0);
    });

    it.skipIf(nobodyCannotRun !== undefined)('a control socket the user may not reach is "permission denied on <path>", not "no control socket"', async () => {
      const open = tempDir('overseer-ctl-');
      chmodSync(open, 0o755);
      const socket = join(open, 'c.sock');
      await fakeControlSocket(socket); // root's, mode 0755 & ~umask: not writable by nobody
      chmodSync(socket, 0o600);
      const denied = await runCliAs(NOBODY, ['status', '--control', socket]);
      expect(denied.stderr).toBe(`overseer: permission denied on ${socket} (run this as the master's user or root)\n`);
      expect(denied.code).toBe(2);

      const hidden = join(tempDir('overseer-ctl-'), 'c.sock'); // in a 0700 directory of root's
      const unreachable = await runCliAs(NOBODY, ['status', '--control', hidden]);
      expect(unreachable.stderr).toBe(`overseer: permission denied on ${hidden} (run this as the master's user or root)\n`);
      expect(unreachable.code).toBe(2);
    });
  });
});

