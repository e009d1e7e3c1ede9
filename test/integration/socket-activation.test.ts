/**
 * systemd socket activation, with test/fixtures/socket-activate.py standing in
 * for systemd: it owns the listening sockets and starts the master with them
 * at fds 3 and 4 and LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES naming the master.
 * What is proved is read from the OS (/proc), not from what overseer says.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLoad } from '../helpers/load.js';
import { ROOT, startMaster } from '../helpers/master.js';
import { listeningOn, socketInodes } from '../helpers/sockets.js';
import { tempDir, track } from '../helpers/processes.js';

const ACTIVATE = `${ROOT}test/fixtures/socket-activate.py`;
const APP = `${ROOT}test/fixtures/env-app.cjs`;

/** GET on a connection of its own (closed after: an idle keep-alive one would slow the drain). */
function getJson(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('error', reject);
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Record<string, unknown>) : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject);
  });
}

function activated(launcherArgs: string[], versionFile: string) {
  const master = startMaster(['start', APP, '--listen', '127.0.0.1:{port}', '--log-format', 'json'], {
    launcher: ['python3', ACTIVATE, ...launcherArgs],
    env: { APP_VERSION_FILE: versionFile },
  });
  const sockets = master.waitForOutput(/^activation port=/).then((line) => {
    const [, port, inode, unixInode] = /port=(\d+) inode=(\d+) unix-inode=(\d+)/.exec(line)!;
    return { port: Number(port), inode: inode!, unixInode: unixInode! };
  });
  return { master, sockets };
}

describe('socket activation', () => {
  it('holds the sockets systemd passed instead of binding, serves them through an upgrade, and keeps LISTEN_* from workers', async () => {
    const dir = tempDir();
    const versionFile = join(dir, 'version');
    writeFileSync(versionFile, 'v1');
    const adminPath = join(dir, 'admin.sock');
    const { master, sockets } = activated(['--unix', adminPath], versionFile);
    const { port, inode, unixInode } = await sockets;
    const started = await master.waitFor('master.started');
    const masterPid = started.pid as number;
    track(masterPid);

    // The TCP socket stands for `--listen 127.0.0.1:<port>`; the unix one,
    // matching no --listen, is held as passed. Names come from LISTEN_FDNAMES.
    const inherited = master.events.filter((e) => e.event === 'listener.inherited');
    expect(inherited).toEqual([
      expect.objectContaining({ fd: 3, fdName: 'web', from: 'systemd', address: { kind: 'tcp', host: '127.0.0.1', port }, serves: { kind: 'tcp', host: '127.0.0.1', port } }),
      expect.objectContaining({ fd: 4, fdName: 'admin', address: { kind: 'unix', path: adminPath } }),
    ]);
    expect(inherited[1]!.serves).toBeUndefined();
    expect(started.listeners).toEqual([{ kind: 'tcp', host: '127.0.0.1', port }, { kind: 'unix', path: adminPath }]);

    // The master never bound the port: its fds 3 and 4 are the launcher's
    // sockets, and the only socket on this host listening on the port is the
    // launcher's (binding it again would have failed: it is in use).
    const held = socketInodes(masterPid);
    expect(held.get(3)).toBe(inode);
    expect(held.get(4)).toBe(unixInode);
    expect(listeningOn(port)).toEqual([inode]);

    await master.waitFor('master.ready');
    const url = `http://127.0.0.1:${port}/`;
    const first = await getJson(url);
    // The worker accepts on that very socket, and does not see LISTEN_*.
    expect(first).toMatchObject({ version: 'v1', LISTEN_FDS: null, LISTEN_PID: null, LISTEN_FDNAMES: null });
    expect([...socketInodes(first.pid as number).values()]).toContain(inode);

    const load = await startLoad(url, { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1');
    writeFileSync(versionFile, 'v2');
    const mark = master.events.length;
    process.kill(masterPid, 'SIGHUP');
    await master.upgraded(mark);
    await load.waitForVersion('v2');
    const report = await load.stop();
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    expect(await getJson(url)).toMatchObject({ version: 'v2', LISTEN_FDS: null, LISTEN_PID: null });
    expect(listeningOn(port)).toEqual([inode]);

    process.kill(masterPid, 'SIGTERM');
    await master.waitForOutput(/^activation exited code=0$/);
    expect((await master.exited).code).toBe(0);
  });

  it('keeps the port open across a full restart of the master: no connection is refused', async () => {
    const dir = tempDir();
    const versionFile = join(dir, 'version');
    writeFileSync(versionFile, 'v1');
    const { master, sockets } = activated(['--runs', '2'], versionFile);
    const { port, inode } = await sockets;
    const first = await master.waitFor('master.started');
    track(first.pid as number);
    await master.waitFor('master.ready');
    const load = await startLoad(`http://127.0.0.1:${port}/`, { keepalive: 2, fresh: 4 });
    await load.waitForVersion('v1');

    // Stop the whole master; the launcher starts a new one on the same socket.
    writeFileSync(versionFile, 'v2');
    process.kill(first.pid as number, 'SIGTERM');
    const second = await master.waitFor('master.started', (e) => e.pid !== first.pid);
    track(second.pid as number);
    await master.waitFor('master.ready', (e) => e.masterPid === second.pid);
    await load.waitForVersion('v2');
    const report = await load.stop();

    expect(master.output).toContain('activation exited code=0'); // the first master stopped gracefully
    // While no master ran, new connections waited in the socket's backlog.
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.byLoop.fresh.total).toBeGreaterThan(0);
    expect(report.versionSpans.v1!.lastMs).toBeLessThan(report.versionSpans.v2!.firstMs);
    expect(socketInodes(second.pid as number).get(3)).toBe(inode);
    expect(listeningOn(port)).toEqual([inode]);

    process.kill(second.pid as number, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
  });
});
