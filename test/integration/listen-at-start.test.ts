/**
 * The master's sockets listen from start-up, before any worker: a client
 * that connects while the first worker is still starting waits in the
 * backlog and is answered once the worker is live, instead of being refused;
 * a port in use is reported at start. The master itself accepts nothing.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseArgs, runCli, startMaster } from '../helpers/master.js';
import { makeApp } from '../helpers/app.js';
import { fdCount } from '../helpers/procfs.js';
import { onCleanup, tempDir } from '../helpers/processes.js';

/** An app that calls listen() only once the file `gate` exists. */
function gatedApp(gate: string): string {
  const app = makeApp('v1');
  writeFileSync(app.script, `
const http = require('node:http');
const fs = require('node:fs');
const server = http.createServer((req, res) => { res.setHeader('x-version', 'v1'); res.end('pid=' + process.pid + '\\n'); });
console.log('waiting for the gate');
const timer = setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(gate)})) return;
  clearInterval(timer);
  server.listen(process.env.PORT);
}, 10);
`);
  return app.script;
}

/** Connect and send one request; `connected` settles on the TCP handshake, `answer` with all the server sent. */
function request(port: number, host = '127.0.0.1'): { connected: Promise<void>; answer: Promise<string> } {
  const socket = net.connect(port, host);
  onCleanup(() => socket.destroy());
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      resolve();
    });
    socket.once('error', reject);
  });
  const answer = new Promise<string>((resolve, reject) => {
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
  answer.catch(() => {});
  return { connected, answer };
}

describe('listening from start-up', () => {
  it('a connection made before the first worker listens waits and is answered by that worker', async () => {
    const gate = join(tempDir(), 'gate');
    const master = startMaster(baseArgs(gatedApp(gate)));
    const port = await master.port();
    await master.waitForOutput(/^waiting for the gate$/); // the worker runs and has not called listen()
    const fdsBefore = fdCount(master.pid);

    const early = request(port);
    await early.connected; // refused (ECONNREFUSED) when the socket listened only once a worker did
    expect(master.count('master.ready')).toBe(0);
    expect(fdCount(master.pid)).toBe(fdsBefore); // the master did not accept it: it waits in the backlog

    writeFileSync(gate, '');
    const ready = await master.waitFor('master.ready');
    const answer = await early.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain(`pid=${(ready.pids as number[])[0]}`);
  });

  it('a port in use is reported at start: exit 1, one line, no worker, nothing left behind', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    onCleanup(() => busy.close());
    const dir = tempDir();
    const pidFile = join(dir, 'm.pid');
    const port = (busy.address() as net.AddressInfo).port;
    const result = await runCli(['start', makeApp('v1').script, '--listen', `127.0.0.1:${port}`, '--log-format', 'json', '--pid-file', pidFile], {
      env: { XDG_RUNTIME_DIR: dir },
    });
    expect(result.stderr).toMatch(/^overseer: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE \(address already in use\)\n$/);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('worker.spawned');
    expect(existsSync(pidFile)).toBe(false);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => !entry.isDirectory());
    expect(files.map((entry) => entry.name)).toEqual([]); // no control socket, no PID file
  });

  it('a host name is resolved at start: --listen localhost:0 serves on the address it resolves to', async () => {
    const master = startMaster(['start', makeApp('v1').script, '--listen', 'localhost:0', '--log-format', 'json']);
    const started = await master.waitFor('master.started');
    const [listener] = started.listeners as Array<{ kind: string; host: string; port: number }>;
    expect(listener).toMatchObject({ kind: 'tcp', host: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) });
    await master.waitFor('master.ready');
    const { answer } = request(listener!.port, listener!.host);
    expect(await answer).toMatch(/^HTTP\/1\.1 200/);
  });

  it('"master.started" says listening when a client can connect: no refusal right after it', async () => {
    const gate = join(tempDir(), 'gate');
    const master = startMaster(baseArgs(gatedApp(gate), '--listen', `unix:${join(tempDir(), 'app.sock')}`));
    const started = await master.waitFor('master.started');
    expect(started.msg).toMatch(/^master \d+ listening on 127\.0\.0\.1:\d+, unix:/);
    const unixPath = (started.listeners as Array<{ kind: string; path?: string }>).find((l) => l.kind === 'unix')!.path!;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(unixPath, () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
    await request(await master.port()).connected;
  });
});
