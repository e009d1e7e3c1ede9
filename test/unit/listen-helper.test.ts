/**
 * The listen helper (real sockets, real processes): it puts a bound socket in
 * the listening state and exits without accepting anything, even with
 * connections waiting in the backlog while it runs.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindAddress } from '../../src/master/bind.js';
import { ensureListening, listenNow } from '../../src/master/listen-helper.js';
import { onCleanup, track } from '../helpers/processes.js';

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

describe('listen helper (--exec)', () => {
  it('makes the socket listen once; queued connections survive it and are served later', async () => {
    const bound = await bindAddress({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    onCleanup(() => bound.handle.close());
    const port = (bound.address as { port: number }).port;
    const fd = (bound.handle as unknown as { fd: number }).fd;
    const target = { handle: bound.handle, fd, label: `127.0.0.1:${port}` };

    await expect(client(port).connected).rejects.toMatchObject({ code: 'ECONNREFUSED' }); // bound, not listening
    expect(ensureListening([target])).toBe(1);
    expect(ensureListening([target])).toBe(0);

    // Three connections wait in the backlog; then the helper runs again while they wait.
    const waiting = [client(port), client(port), client(port)];
    await Promise.all(waiting.map((c) => c.connected));
    listenNow([target]);

    // Something that does accept (a worker) serves every one of them.
    const acceptor = spawn(process.execPath, ['-e', `
      const net = require('node:net');
      net.createServer((s) => s.end('served')).listen({ fd: 3 });
    `], { stdio: ['ignore', 'ignore', 'inherit', fd] });
    track(acceptor.pid);
    onCleanup(() => acceptor.kill('SIGKILL'));
    expect(await Promise.all(waiting.map((c) => c.received))).toEqual(['served', 'served', 'served']);
  });

  it('reports a socket it cannot make listen', () => {
    expect(() => listenNow([{ handle: {}, fd: 0, label: 'stdin' }])).toThrow(/cannot put stdin in the listening state: fd 3: /);
  });
});
