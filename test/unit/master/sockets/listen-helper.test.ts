/**
 * The listen helper (real sockets, real processes): it puts a bound socket in
 * the listening state and exits without accepting anything, even with
 * connections waiting in the backlog while it runs.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type ServerHandle, masterBinder } from '../../../../src/master/sockets/bind.js';
import { ensureListening, listenSockets } from '../../../../src/master/sockets/listen-helper.js';
import { onCleanup, track } from '../../../helpers/processes.js';

/** Connects; resolves with everything the server sent, or the error that ended the connection. */
function client(port: number): { connected: Promise<void>; received: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  onCleanup(() => socket.destroy());
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received = new Promise<string>((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
  });
  connected.catch(() => {});
  return { connected, received };
}

/** A bound, not listening, socket on loopback, as the master binds it. */
async function boundSocket(): Promise<{ handle: ServerHandle; port: number; fd: number }> {
  const outcome = await masterBinder.tcp('127.0.0.1', 0, 4);
  if ('code' in outcome) throw new Error(outcome.code);
  const { handle } = outcome;
  onCleanup(() => handle.close());
  const out: { port?: number } = {};
  handle.getsockname?.(out);
  return { handle, port: out.port!, fd: (handle as unknown as { fd: number }).fd };
}

describe('listen helper', () => {
  it('makes the socket listen once; queued connections survive it and are served later', async () => {
    const { handle, port, fd } = await boundSocket();
    const target = { handle, fd, label: `127.0.0.1:${port}` };

    await expect(client(port).connected).rejects.toMatchObject({ code: 'ECONNREFUSED' }); // bound, not listening
    expect(ensureListening([target])).toBe(1);
    expect(ensureListening([target])).toBe(0);

    // Three connections wait in the backlog; then the helper runs again while they wait.
    const waiting = [client(port), client(port), client(port)];
    await Promise.all(waiting.map((c) => c.connected));
    expect(await listenSockets([target])).toEqual([undefined]);

    // Something that does accept (a worker) serves every one of them.
    const acceptor = spawn(process.execPath, ['-e', `
      const net = require('node:net');
      net.createServer((s) => s.end('served')).listen({ fd: 3 });
    `], { stdio: ['ignore', 'ignore', 'inherit', fd] });
    track(acceptor.pid);
    onCleanup(() => acceptor.kill('SIGKILL'));
    expect(await Promise.all(waiting.map((c) => c.received))).toEqual(['served', 'served', 'served']);
  });

  it('reports a socket it cannot make listen', async () => {
    expect(() => ensureListening([{ handle: {}, fd: 0, label: 'stdin' }])).toThrow(/cannot put stdin: \w+ in the listening state/);
    expect(await listenSockets([{ handle: {}, fd: 0, label: 'stdin' }])).toEqual([expect.stringMatching(/^E/)]);
  });

  it('reports EADDRINUSE for the second of two sockets bound to one port (bind alone does not tell)', async () => {
    const first = await boundSocket();
    const outcome = await masterBinder.tcp('127.0.0.1', first.port, 4);
    if ('code' in outcome) throw new Error(outcome.code);
    const { handle } = outcome;
    onCleanup(() => handle.close());
    expect(await listenSockets([
      { handle: first.handle, fd: first.fd, label: 'first' },
      { handle, fd: (handle as unknown as { fd: number }).fd, label: 'second' },
    ])).toEqual([undefined, 'EADDRINUSE']);
  });

  it('the master binder reports a port another socket listens on at bind time', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    onCleanup(() => busy.close());
    expect(await masterBinder.tcp('127.0.0.1', (busy.address() as net.AddressInfo).port, 4)).toEqual({ code: 'EADDRINUSE' });
  });
});
