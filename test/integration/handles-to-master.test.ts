/**
 * A worker's app cannot make the master accept connections or hold handles.
 * `process.send(message, server)` (sticky-session code does it) throws in the
 * worker; a handle sent anyway, around the preload (`process._send`), is
 * closed by the master on arrival and logged, before Node can listen on it.
 * What the master holds is read from /proc, not from what it says.
 */
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseArgs, startMaster } from '../helpers/master.js';
import { tempDir } from '../helpers/processes.js';
import { fdCount } from '../helpers/procfs.js';

const SOCKETS = 200;

/** Serves PORT (through the master) and a port of its own; `SEND` picks how it sends handles to the master. */
const APP = `
const http = require('node:http');
const net = require('node:net');
const answer = (req, res) => res.end('pid=' + process.pid + '\\n');
const main = http.createServer(answer);
const own = http.createServer(answer);
const send = process.env.SEND === 'public'
  ? (message, handle) => new Promise((resolve, reject) => process.send(message, handle, {}, (e) => (e ? reject(e) : resolve())))
  : (message, handle) => new Promise((resolve, reject) => process._send(message, handle, {}, (e) => (e ? reject(e) : resolve())));
const connect = (port) => new Promise((resolve, reject) => {
  const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
  socket.on('error', reject);
});
main.listen(process.env.PORT, () => own.listen(0, '127.0.0.1', async () => {
  console.log('own port ' + own.address().port);
  try {
    await send('main', main);
    await send('own', own);
    for (let i = 0; i < ${SOCKETS}; i++) await send('socket', await connect(own.address().port));
    console.log('handles sent');
  } catch (error) {
    console.log('send refused: ' + error.code + ': ' + error.message);
    // Refused with nothing sent: the app still has and serves its server.
    console.log('own still listening: ' + own.listening);
  }
}));
`;

function writeApp(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  writeFileSync(join(dir, 'app.js'), APP);
  return join(dir, 'app.js');
}

/** Ports on which one of `pid`'s descriptors is a listening TCP socket (/proc/net/tcp{,6}, state 0A). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && inodes.has(fields[9]!)) ports.push(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** One GET with a deadline: 'ok', or why not (a connection the master accepted is never answered). */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `status ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve(error.message));
  });
}

describe('handles sent to the master', () => {
  it('process.send(message, handle) throws ERR_OVERSEER_SEND_HANDLE in the worker, sending nothing', async () => {
    const master = startMaster(baseArgs(writeApp()), { env: { SEND: 'public' } });
    await master.waitFor('master.ready');
    const refused = await master.waitForOutput(/^send refused: /);
    expect(refused).toMatch(/^send refused: ERR_OVERSEER_SEND_HANDLE: process\.send\(\) cannot pass a handle \(Server\)/);
    await master.waitForOutput(/^own still listening: true$/);
    expect(master.count('worker.handle-refused')).toBe(0);
  });

  it('the master closes every handle that arrives anyway, accepts nothing on it, and logs it', async () => {
    const master = startMaster(baseArgs(writeApp()), { env: { SEND: 'internal' } });
    const ready = await master.waitFor('master.ready');
    const port = await master.port();
    const fdsBefore = fdCount(master.pid);
    await master.waitForOutput(/^handles sent$/, 30_000);
    const own = Number((await master.waitForOutput(/^own port \d+$/)).split(' ')[2]);

    // Every handle was refused, and logged with what it was.
    await expect.poll(() => master.count('worker.handle-refused'), { timeout: 10_000 }).toBe(SOCKETS + 2);
    expect(master.count('worker.handle-refused', (e) => e.handleType === 'net.Server')).toBe(2);
    expect(master.count('worker.handle-refused', (e) => e.handleType === 'net.Socket')).toBe(SOCKETS);
    expect(master.count('worker.handle-refused', (e) => e.pid === (ready.pids as number[])[0])).toBe(SOCKETS + 2);

    // The master keeps none of them: its descriptors are as before, and it has no listening socket on the app's own port.
    await expect.poll(() => fdCount(master.pid), { timeout: 5_000 }).toBeLessThanOrEqual(fdsBefore);
    expect(listeningPorts(master.pid)).not.toContain(own);

    // No connection to either port lands in the master, unanswered.
    const answers = await Promise.all([
      ...Array.from({ length: 40 }, () => probe(port)),
      ...Array.from({ length: 40 }, () => probe(own)),
    ]);
    expect(answers.filter((a) => a !== 'ok')).toEqual([]);
    expect(master.count('worker.exited')).toBe(0);
  });
});
