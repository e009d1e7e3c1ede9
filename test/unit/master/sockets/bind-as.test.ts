/**
 * The bind helper (real processes, real sockets), run here with the test's
 * own credentials: it binds and hands back a bound handle that the master can
 * make listen, reports the kernel's error codes, and reclaims a stale socket
 * file. The credentials themselves are tested as root in
 * integration/privilege.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialsBinder, foreignCredentials } from '../../../../src/master/sockets/bind-as.js';
import { bindAddress } from '../../../../src/master/sockets/bind.js';
import { onCleanup, tempDir } from '../../../helpers/processes.js';

const asSelf = credentialsBinder({ uid: undefined, gid: undefined });

function connects(target: { port: number; host: string } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(target as net.NetConnectOpts, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('bind helper', () => {
  it('only credentials other than the master\'s count as foreign', () => {
    expect(foreignCredentials(undefined, undefined)).toBeUndefined();
    expect(foreignCredentials(process.getuid!(), process.getgid!())).toBeUndefined();
    expect(foreignCredentials(process.getuid!() + 1, undefined)).toEqual({ uid: process.getuid!() + 1, gid: undefined });
  });

  it('binds a TCP port in the helper; the master makes it listen', async () => {
    const bound = await bindAddress({ kind: 'tcp', host: '127.0.0.1', port: 0 }, asSelf);
    onCleanup(() => bound.handle.close());
    const { port } = bound.address as { port: number };
    expect(port).toBeGreaterThan(0);
    expect(await connects({ port, host: '127.0.0.1' })).toBe(true); // queued in the backlog: it listens
  });

  it('reports a port in use as EADDRINUSE', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    onCleanup(() => busy.close());
    expect(await asSelf.tcp('127.0.0.1', (busy.address() as net.AddressInfo).port, 4)).toEqual({ code: 'EADDRINUSE' });
  });

  it('reclaims a stale socket file, keeps the new socket file after the helper exits, and leaves other files alone', async () => {
    const dir = tempDir();
    const path = join(dir, 'app.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(await connects({ path })).toBe(false); // stale: nobody accepts
    const bound = await bindAddress({ kind: 'unix', path }, asSelf);
    onCleanup(() => bound.handle.close());
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(await connects({ path })).toBe(true); // the helper's socket, listening, file still there

    const file = join(dir, 'plain');
    writeFileSync(file, '');
    expect(await asSelf.unix(file)).toEqual({ code: 'EADDRINUSE', detail: 'a file that is not a socket is in the way' });
    expect(existsSync(file)).toBe(true);
  });
});
