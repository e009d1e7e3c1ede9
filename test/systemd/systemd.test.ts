/**
 * The systemd tier: the units `overseer systemd-unit` generates, installed in
 * a real systemd (252, Debian 12) running as PID 1 of a systemd-nspawn
 * container (container.ts), driven with systemctl, under keep-alive and
 * new-connection load from bench/load-client.mjs running in the container's
 * network namespace. Root only; `npm run test:systemd` (docs/testing.md).
 *
 * One container for the file, and the steps build on each other (the unit
 * the first test starts is the one later tests reload, restart and stop), so
 * they run in order and a failure early makes later ones fail too.
 */
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LoadReport, startLoad } from '../helpers/load.js';
import { BIN, ROOT } from '../helpers/master.js';
import { type Container, type Result, boot, cannotRun, exec, findNspawn, hiddenIn } from './container.js';

const nspawn = findNspawn();
const reason = cannotRun(nspawn.path);
// Asked for explicitly (CI sets OVERSEER_TEST_NSPAWN), the tier must run: a reason is then a failure.
const skip = reason !== undefined && !nspawn.required;
if (skip) console.log(`systemd tier skipped: ${reason}`);

const UNIT = 'hello';
const PORT = 8080;
const TARGET = `http://127.0.0.1:${PORT}/`;
/** The first start delays listen() by this much, so a start that did not wait for READY=1 would show. */
const SLOW_START_MS = 1500;

let container: Container;
let work: string;
let app: string;
const measured: string[] = [];
const note = (line: string) => {
  measured.push(line);
  console.log(`systemd tier: ${line}`);
};

const run = (...argv: string[]) => container.run(argv);
const systemctl = (...args: string[]) => container.run(['systemctl', ...args], 60_000);
const show = async (unit: string, property: string) => (await systemctl('show', '-p', property, '--value', unit)).stdout.trim();
const journal = async () => (await run('journalctl', '-u', `${UNIT}.service`, '-u', `${UNIT}.socket`, '-n', '40', '--no-pager', '-o', 'cat')).stdout;

/** Expect an exit code; on a mismatch the message carries the output and the unit's journal. */
async function expectExit(result: Result, code: number, what: string): Promise<void> {
  if (result.code === code) return;
  expect.fail(`${what}: exit ${result.code}, expected ${code}\n${result.stdout}${result.stderr}\njournal:\n${await journal()}`);
}

const deploy = (version: string) => writeFileSync(join(app, 'VERSION'), `${version}\n`);

/** `overseer systemd-unit` inside the container, from the app's directory, as docs/operations.md says. */
async function installUnits(...extra: string[]): Promise<void> {
  const generate = await run(
    'sh', '-c', 'cd /srv/app && exec "$@"', 'sh',
    process.execPath, BIN, 'systemd-unit', 'server.js', '--name', UNIT, '--listen', `127.0.0.1:${PORT}`, '--workers', '2',
    ...extra, '--out-dir', '/etc/systemd/system',
  );
  await expectExit(generate, 0, 'overseer systemd-unit');
  await expectExit(await systemctl('daemon-reload'), 0, 'systemctl daemon-reload');
}

/** One request from inside the container's network: "<status> <x-version>" or the error code. */
async function get(): Promise<string> {
  const script = `require('node:http').get(${JSON.stringify(TARGET)}, (r) => { r.resume(); console.log(r.statusCode + ' ' + r.headers['x-version']); }).on('error', (e) => console.log(e.code));`;
  return (await exec([...container.inNetwork, process.execPath, '-e', script])).stdout.trim();
}

/** The inode of the socket listening on PORT in the container's network. */
async function listeningInode(): Promise<string> {
  const { stdout } = await exec([...container.inNetwork, 'ss', '-Hltne', `sport = :${PORT}`]);
  return [...new Set(stdout.match(/ino:\d+/g) ?? [])].join(' ');
}

const load = () => startLoad(TARGET, { keepalive: 4, fresh: 2, durationMs: 120_000, launcher: container.inNetwork });
/** Per switch of version, the ms between the old one's last answer and the new one's first: no answer meanwhile. */
function gaps(r: LoadReport): number[] {
  const spans = Object.values(r.versionSpans).sort((a, b) => a.firstMs - b.firstMs);
  return spans.slice(1).map((span, i) => Math.round(span.firstMs - spans[i]!.lastMs));
}
const summary = (r: LoadReport) => `${r.failed} failed of ${r.total}${r.failed > 0 ? ` ${JSON.stringify(r.failuresByKind)}` : ''}`;

/** The node processes of the app (master, workers) as `ps` in the container sees them. */
async function appProcesses(): Promise<string[]> {
  const { stdout } = await run('ps', '-eo', 'pid=,args=');
  return stdout.split('\n').filter((line) => line.includes(BIN) || line.includes('/srv/app/server.js'));
}

describe.skipIf(skip)('under a real systemd (nspawn container)', () => {
  beforeAll(async () => {
    if (reason !== undefined) throw new Error(`systemd tier: OVERSEER_TEST_NSPAWN is set, but ${reason}`);
    work = mkdtempSync(join(tmpdir(), 'overseer-systemd-'));
    app = join(work, 'app');
    mkdirSync(app);
    copyFileSync(join(ROOT, 'test/fixtures/release-app.cjs'), join(app, 'server.js'));
    // This checkout, its node_modules and node, at the same paths inside (CI clones anywhere, /tmp too).
    const elsewhere = hiddenIn([ROOT.replace(/\/$/, ''), realpathSync(join(ROOT, 'node_modules')), dirname(realpathSync(process.execPath))]);
    const t0 = Date.now();
    container = await boot({
      nspawn: nspawn.path!,
      binds: [[app, '/srv/app', false], ...elsewhere.map((path) => [path, path, true] as const)],
      logFile: join(work, 'console.log'),
    });
    note(`container booted in ${Date.now() - t0} ms; ${(await run('systemctl', '--version')).stdout.split('\n')[0]} as PID 1 (host pid ${container.leader})`);
  }, 90_000);

  let failed = false;
  afterEach((context) => {
    if (context.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    if (failed && container !== undefined) {
      // What systemd and the master said, kept for the failure's post-mortem.
      const all = await run('journalctl', '--no-pager', '-o', 'short-monotonic');
      writeFileSync(join(work, 'journal.txt'), all.stdout);
      console.log(`systemd tier: a test failed; the container's journal and console are in ${work}`);
    }
    await container?.teardown();
    if (work !== undefined && !failed) rmSync(work, { recursive: true, force: true });
    if (measured.length > 0) console.log(`systemd tier, measured:\n  ${measured.join('\n  ')}`);
  }, 60_000);

  it('systemctl start returns once the first generation is ready (Type=notify), which took the systemd socket; StatusText says what is served', async () => {
    deploy('v1');
    writeFileSync(join(app, 'DELAY_MS'), String(SLOW_START_MS));
    await installUnits();
    const start = await systemctl('start', `${UNIT}.service`);
    await expectExit(start, 0, 'systemctl start');
    rmSync(join(app, 'DELAY_MS'));
    note(`systemctl start: ${start.ms} ms (the app delays listen() by ${SLOW_START_MS} ms)`);
    // Returned only after READY=1: the workers' delayed listen() lies inside it.
    expect(start.ms).toBeGreaterThanOrEqual(SLOW_START_MS);
    const startedUs = Number(await show(UNIT, 'ExecMainStartTimestampMonotonic'));
    const activeUs = Number(await show(UNIT, 'ActiveEnterTimestampMonotonic'));
    expect(activeUs - startedUs).toBeGreaterThanOrEqual(SLOW_START_MS * 1000);
    expect(await show(UNIT, 'Type')).toBe('notify');
    expect(`${await show(UNIT, 'ActiveState')}/${await show(UNIT, 'SubState')}`).toBe('active/running');
    expect(await show(UNIT, 'StatusText')).toBe(`serving generation 1 (2 workers) on 127.0.0.1:${PORT}`);
    expect(await get()).toBe('200 v1');
    expect(await appProcesses()).toHaveLength(3);
    // The master holds systemd's socket rather than one of its own (by _PID: journald may
    // file a service's first lines under init.scope).
    const master = await show(UNIT, 'MainPID');
    const lines = (await run('journalctl', `_PID=${master}`, '-o', 'cat', '--no-pager')).stdout;
    expect(lines).toContain('"event":"listener.inherited"');
  });

  it('5 × systemctl reload with a new version each: exit 0, MainPID unchanged, 0 failed requests; a broken release: reload fails, the old version answers, the unit stays active', async () => {
    const master = await show(UNIT, 'MainPID');
    const traffic = await load();
    const times: number[] = [];
    for (const version of ['v2', 'v3', 'v4', 'v5', 'v6']) {
      deploy(version);
      const reload = await systemctl('reload', `${UNIT}.service`);
      await expectExit(reload, 0, `systemctl reload to ${version}`);
      times.push(reload.ms);
      expect(await show(UNIT, 'MainPID')).toBe(master);
      await traffic.waitForVersion(version);
    }
    deploy('broken7');
    const broken = await systemctl('reload', `${UNIT}.service`);
    expect(broken.code, 'the reload of a broken release').not.toBe(0);
    await traffic.waitForVersion('v6');
    expect(`${await show(UNIT, 'ActiveState')}/${await show(UNIT, 'SubState')}`).toBe('active/running');
    expect(await show(UNIT, 'MainPID')).toBe(master);
    expect(await show(UNIT, 'StatusText')).toMatch(/^upgrade to generation 7 failed \(exited-before-ready\); serving generation 6$/);
    const report = await traffic.stop();
    note(`5 × systemctl reload: ${times.join(', ')} ms; broken release: exit ${broken.code} after ${broken.ms} ms; load: ${summary(report)}`);
    expect(report.failed, JSON.stringify(report.errors.slice(0, 5))).toBe(0);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    deploy('v6');
  });

  /** How many starting workers this master has spawned again after a signal meant for it (worker.respawned in its journal). */
  const respawns = async (master: string) => (await run('journalctl', `_PID=${master}`, '-o', 'cat', '--no-pager')).stdout
    .split('\n').filter((line) => line.includes('"event":"worker.respawned"')).length;

  /** The generation StatusText names first: `serving generation N …` or `upgrade to generation N failed …`. */
  const statusGeneration = async () => Number(/generation (\d+)/.exec(await show(UNIT, 'StatusText'))?.[1] ?? NaN);

  it.each([
    ['systemctl kill -s HUP (every process of the unit)', []],
    ['systemctl kill --kill-whom=main -s HUP', ['--kill-whom=main']],
  ] as const)('%s upgrades, every time, with 0 failed requests', async (what, options) => {
    const master = await show(UNIT, 'MainPID');
    const respawnedBefore = await respawns(master);
    const traffic = await load();
    const rejected: string[] = [];
    for (const n of [1, 2, 3]) {
      const version = `hup-${options.length}-${n}`;
      deploy(version);
      const before = await statusGeneration();
      await expectExit(await systemctl('kill', ...options, '-s', 'HUP', `${UNIT}.service`), 0, what);
      // The master heard it: STATUS= names the next generation, serving or rejected.
      await expect.poll(statusGeneration, { timeout: 20_000, interval: 50 }).toBe(before + 1);
      await expect.poll(() => show(UNIT, 'StatusText'), { timeout: 20_000, interval: 50 }).toMatch(/^(serving generation|upgrade to generation \d+ failed)/);
      const status = await show(UNIT, 'StatusText');
      if (status.startsWith('serving')) await traffic.waitForVersion(version);
      else {
        // Why, in the master's words (its last upgrade.failed event).
        const lines = (await run('journalctl', `_PID=${master}`, '-o', 'cat', '--no-pager')).stdout.split('\n');
        const failure = lines.filter((line) => line.includes('"event":"upgrade.failed"')).at(-1);
        rejected.push(failure === undefined ? status : (JSON.parse(failure) as { message: string }).message);
      }
    }
    const report = await traffic.stop();
    note(`${what}, 3 upgrades: ${summary(report)}${rejected.length > 0 ? `; rejected: ${rejected.join('; ')}` : ''}`);
    expect(report.failed, JSON.stringify(report.errors.slice(0, 5))).toBe(0);
    // Every process of the unit gets the signal, and systemd reads the cgroup again until
    // it finds no process it has not signalled: the workers the master forks in answer
    // may get it too, before their preload ignores it. The bring-up spawns those again
    // (worker.respawned), so the upgrade still happens.
    const respawned = (await respawns(master)) - respawnedBefore;
    if (respawned > 0) note(`${what}: ${respawned} starting workers killed by the HUP were spawned again`);
    expect(rejected).toEqual([]);
    expect(await show(UNIT, 'MainPID')).toBe(master);
    expect(await show(UNIT, 'ActiveState')).toBe('active');
  });

  it('with the .socket unit, 3 × systemctl restart: 0 failed requests, the listening socket\'s inode unchanged', async () => {
    const inode = await listeningInode();
    expect(inode).toMatch(/^ino:\d+$/);
    const masters = [await show(UNIT, 'MainPID')];
    const traffic = await load();
    const times: number[] = [];
    for (const version of ['r1', 'r2', 'r3']) {
      deploy(version);
      const restart = await systemctl('restart', `${UNIT}.service`);
      await expectExit(restart, 0, 'systemctl restart');
      times.push(restart.ms);
      masters.push(await show(UNIT, 'MainPID'));
      await traffic.waitForVersion(version);
    }
    const report = await traffic.stop();
    note(`3 × systemctl restart with ${UNIT}.socket: ${times.join(', ')} ms; no answer for ${gaps(report).join(', ')} ms (requests wait in the backlog); load: ${summary(report)}`);
    expect(report.failed, JSON.stringify(report.errors.slice(0, 5))).toBe(0);
    expect(new Set(masters).size).toBe(4); // a new master each time
    expect(await listeningInode()).toBe(inode);
    expect(await show(`${UNIT}.socket`, 'ActiveState')).toBe('active');
    expect(await show(`${UNIT}.socket`, 'NRefused')).toBe('0');
  });

  it('overseer upgrade --self under systemd: the unit stays active, MainPID moves to the successor, 0 failed requests, the socket\'s inode unchanged', async () => {
    const before = await show(UNIT, 'MainPID');
    const inode = await listeningInode();
    const traffic = await load();
    await traffic.waitForVersion('r3');
    deploy('s1');
    const upgrade = await run(process.execPath, BIN, 'upgrade', '--self', '--json', `--control=/run/overseer-${UNIT}/control.sock`);
    await expectExit(upgrade, 0, 'overseer upgrade --self');
    const outcome = JSON.parse(upgrade.stdout) as { pid: number; previousPid: number; durationMs: number };
    expect(outcome.previousPid).toBe(Number(before));
    expect(await show(UNIT, 'MainPID')).toBe(String(outcome.pid));
    await traffic.waitForVersion('s1');
    // The old master drains its workers and exits; the unit does not notice.
    await expectExit(await run('timeout', '30', 'sh', '-c', `while kill -0 ${before} 2>/dev/null; do sleep 0.05; done`), 0, `old master ${before} exiting`);
    const report = await traffic.stop();
    note(`overseer upgrade --self: MainPID ${before} → ${outcome.pid} in ${outcome.durationMs} ms (the successor's first generation live); load: ${summary(report)}`);
    expect(report.failed, JSON.stringify(report.errors.slice(0, 5))).toBe(0);
    expect([await show(UNIT, 'ActiveState'), await show(UNIT, 'SubState'), await show(UNIT, 'MainPID')]).toEqual(['active', 'running', String(outcome.pid)]);
    expect(await listeningInode()).toBe(inode);
    expect(await get()).toBe('200 s1');
    expect(await appProcesses()).toHaveLength(3); // the successor and its two workers
    deploy('r3'); // what the next step expects to find serving, after its own reload
    await expectExit(await systemctl('reload', `${UNIT}.service`), 0, 'systemctl reload after the self-upgrade');
  });

  it('systemctl stop (service and socket) under load exits within TimeoutStopSec, cleanly, with nothing left in the unit\'s cgroup', async () => {
    const group = await show(UNIT, 'ControlGroup');
    expect(group).not.toBe('');
    expect(await appProcesses()).toHaveLength(3);
    const timeoutMs = Number(await show(UNIT, 'TimeoutStopUSec').then((s) => (/^(\d+)s$/.exec(s) ?? [])[1])) * 1000;
    expect(timeoutMs).toBeGreaterThan(0);
    const traffic = await load();
    await traffic.waitForVersion('r3');
    const stop = await systemctl('stop', `${UNIT}.socket`, `${UNIT}.service`);
    await expectExit(stop, 0, 'systemctl stop');
    const report = await traffic.stop();
    note(`systemctl stop: ${stop.ms} ms (TimeoutStopSec ${timeoutMs / 1000} s); load during and after it: ${summary(report)} (refused once stopped, as expected)`);
    expect(stop.ms).toBeLessThan(timeoutMs);
    // Result=success and status 0: the master drained and exited; systemd killed nothing.
    expect([await show(UNIT, 'ActiveState'), await show(UNIT, 'Result'), await show(UNIT, 'ExecMainStatus')]).toEqual(['inactive', 'success', '0']);
    expect(await show(`${UNIT}.socket`, 'ActiveState')).toBe('inactive');
    expect(await appProcesses()).toEqual([]);
    expect(await show(UNIT, 'ControlGroup')).toBe(''); // systemd removes the cgroup once it is empty
    const messages = (await run('journalctl', '-u', `${UNIT}.service`, '--no-pager', '-o', 'cat')).stdout;
    expect(messages).not.toMatch(/remains running after unit stopped|Killing process .* with signal SIGKILL|State 'stop-sigterm' timed out/);
  });

  it('without the .socket unit (--no-socket), systemctl restart refuses connections: what it costs', async () => {
    await systemctl('disable', `${UNIT}.socket`);
    await run('rm', '-f', `/etc/systemd/system/${UNIT}.socket`);
    deploy('n0');
    await installUnits('--no-socket');
    await expectExit(await systemctl('start', `${UNIT}.service`), 0, 'systemctl start (--no-socket)');
    const traffic = await load();
    const times: number[] = [];
    for (const version of ['n1', 'n2', 'n3']) {
      deploy(version);
      const restart = await systemctl('restart', `${UNIT}.service`);
      await expectExit(restart, 0, 'systemctl restart (--no-socket)');
      times.push(restart.ms);
      await traffic.waitForVersion(version);
    }
    const report = await traffic.stop();
    note(`3 × systemctl restart without ${UNIT}.socket: ${times.join(', ')} ms; no answer for ${gaps(report).join(', ')} ms; load: ${summary(report)}`);
    // The claim docs/operations.md makes: the master's socket closes with it.
    expect(report.failed).toBeGreaterThan(0);
    await expectExit(await systemctl('stop', `${UNIT}.service`), 0, 'systemctl stop (--no-socket)');
    expect(await appProcesses()).toEqual([]);
  });

  it('with --hang-timeout, a hung worker is replaced under systemd: the unit stays active, same MainPID, only the hung worker\'s requests fail', async () => {
    deploy('h0');
    await installUnits('--no-socket', '--hang-timeout', '1000');
    await expectExit(await systemctl('start', `${UNIT}.service`), 0, 'systemctl start (--hang-timeout)');
    const master = await show(UNIT, 'MainPID');
    const traffic = await load();
    await traffic.waitForVersion('h0');
    const answer = (await exec([...container.inNetwork, process.execPath, '-e',
      `require('node:http').get(${JSON.stringify(`${TARGET}hang`)}, (r) => { r.setEncoding('utf8'); r.on('data', (d) => process.stdout.write(d)); r.on('end', () => process.exit(0)); })`])).stdout;
    const hungPid = Number(/pid=(\d+)/.exec(answer)?.[1]);
    expect(hungPid).toBeGreaterThan(0);
    const events = async (name: string) => (await run('journalctl', `_PID=${master}`, '-o', 'cat', '--no-pager')).stdout
      .split('\n').filter((line) => line.includes(`"event":"${name}"`)).map((line) => JSON.parse(line) as Record<string, unknown>);
    await expect.poll(async () => (await events('worker.hung')).map((e) => e.pid), { timeout: 10_000, interval: 100 }).toEqual([hungPid]);
    // Replaced (a new worker live in its slot), then killed.
    await expect.poll(async () => (await run('kill', '-0', String(hungPid))).code, { timeout: 10_000, interval: 100 }).not.toBe(0);
    const hung = (await events('worker.hung'))[0]!;
    expect((await events('worker.live')).some((e) => e.slot === hung.slot && e.pid !== hungPid)).toBe(true);
    const report = await traffic.stop();
    note(`a hung worker under systemd (--hang-timeout 1000): reported after ${String(hung.silentMs)} ms of silence; load: ${summary(report)}`);
    // Only requests the hung worker had accepted fail: at most one per load connection.
    expect(report.failed, JSON.stringify(report.errors.slice(0, 5))).toBeLessThanOrEqual(6);
    expect(await show(UNIT, 'ActiveState')).toBe('active');
    expect(await show(UNIT, 'MainPID')).toBe(master);
    await expectExit(await systemctl('stop', `${UNIT}.service`), 0, 'systemctl stop (--hang-timeout)');
    expect(await appProcesses()).toEqual([]);
  });
});
