/**
 * The contenders: one way each of running a bench app and deploying a new
 * version of it.
 *
 * Every contender has the same shape:
 *   id, label          short key and human name
 *   url                http://127.0.0.1:<port>/ once started
 *   start()            resolves once the app serves the version in its file
 *   deploy(version)    writes the version file atomically, triggers the
 *                      upgrade, and resolves with { triggerMs, doneMs } (bench
 *                      clock) once the new version serves and every old
 *                      process is gone; rejects with UpgradeFailed if the
 *                      supervisor reports a failed upgrade (old version still
 *                      serving), with another error on a timeout
 *   supervisorPid()    the process that stays (overseer master, PM2 daemon), or null
 *   stop()             stops everything it started; bounded in time
 * overseer and PM2 also have
 *   selfUpgrade(v)     replaces the supervisor itself (`overseer upgrade
 *                      --self`, `pm2 update`) after writing version v, and
 *                      resolves with { triggerMs, cliMs, oldGoneMs,
 *                      previousPid, pid } (bench clock; `oldGoneMs` null if
 *                      the old supervisor outlived the deadline) once the
 *                      CLI has exited and the new supervisor serves.
 * Waiting is on events: overseer's JSON log, the bare app's "listening" line,
 * the exit of a process; for PM2, on `pm2 reload` returning, then polling
 * pids and `pm2 jlist`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { cpSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './deps.mjs';
import { freePort, goneAt, isAlive, isTrackedAlive, now, signal, spawnTracked, track, waitUntil } from './procs.mjs';

/** The overseer executable the contenders run; see `useOverseerSnapshot`. */
let overseerBin = join(BENCH_DIR, '..', 'bin', 'overseer.js');

/**
 * Copy bin/, dist/ and package.json into `dir` (node_modules linked) and run
 * overseer from there, so a rebuild of dist/ while the bench runs cannot
 * change or break what is measured. Returns the executable's path.
 * @param {string} dir an empty directory the bench removes afterwards
 */
export function useOverseerSnapshot(dir) {
  const root = join(BENCH_DIR, '..');
  for (const part of ['bin', 'dist']) cpSync(join(root, part), join(dir, part), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  overseerBin = join(dir, 'bin', 'overseer.js');
  return overseerBin;
}

/** Raised by `deploy` when the supervisor itself reports a failed upgrade (the old version keeps serving). */
/**
 * Stop a contender at the end of a measurement, whatever happened before:
 * a failure to stop is logged as a warning, never thrown over the result.
 * @param {{ id: string, stop: () => Promise<unknown> }} contender @param {(line: string) => void} log
 */
export async function stopContender(contender, log) {
  try {
    await contender.stop();
  } catch (err) {
    log(`  warning: stopping ${contender.id}: ${/** @type {Error} */ (err).message}`);
  }
}

export class UpgradeFailed extends Error {}

const STOP_TIMEOUT_MS = 20_000;
const DEPLOY_TIMEOUT_MS = 30_000;

/** @param {string} app 'hello' | 'express' | 'h2' | 'heal' */
export const appScript = (app) => join(BENCH_DIR, 'apps', `${app}.js`);

/** Replace the version file as a deploy tool does: write beside, rename over. */
function writeVersion(file, version) {
  writeFileSync(`${file}.tmp`, `${version}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Apps that speak HTTP/2 only (h2c), with no HTTP/1.1 on their port. */
export const isH2App = (app) => app === 'h2';

/**
 * One GET on a new connection (HTTP/1.1, or h2c for `h2`); resolves with the
 * x-version header or null.
 * @param {string} url @param {boolean} [h2]
 */
export function servedVersion(url, h2 = false) {
  if (h2) {
    return new Promise((resolve) => {
      const session = http2.connect(url);
      const timer = setTimeout(() => session.destroy(), 2000);
      session.on('error', () => {});
      session.on('close', () => { clearTimeout(timer); resolve(null); });
      const stream = session.request({ ':path': new URL(url).pathname });
      let version = null;
      stream.on('response', (headers) => { if (headers[':status'] === 200) version = String(headers['x-version'] ?? ''); });
      stream.on('error', () => {});
      stream.resume();
      stream.on('end', () => { clearTimeout(timer); resolve(version); session.close(); });
    });
  }
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-version'] ?? '') : null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** @param {string} url @param {string} version @param {boolean} h2 */
function waitServing(url, version, h2, timeoutMs = 20_000) {
  return waitUntil(async () => (await servedVersion(url, h2)) === version, { timeoutMs, intervalMs: 20, what: `${url} to answer ${version}` });
}

/**
 * Await a child's exit with a deadline; SIGKILL it (if still the same process) at the deadline.
 * @param {{ child: import('node:child_process').ChildProcess, exited: Promise<any> }} proc
 */
async function exitWithin(proc, timeoutMs) {
  const timer = setTimeout(() => { if (isTrackedAlive(proc.child.pid)) signal(proc.child.pid, 'SIGKILL'); }, timeoutMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Bare `node app.js`. Deploy = kill the process and start the new version:
 * what running without a supervisor (or with a plain restart) does.
 * @param {{ app: string, dir: string, bootMs?: number, id?: string }} options
 */
export function bare({ app, dir, bootMs = 0, id = 'bare' }) {
  const versionFile = join(dir, `${id}-${app}.version`);
  /** @type {ReturnType<typeof spawnTracked> | null} */
  let proc = null;
  let port = 0;
  const launch = async () => {
    let onListening;
    const listening = new Promise((resolve) => { onListening = resolve; });
    proc = spawnTracked(process.execPath, [appScript(app)], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', BENCH_VERSION_FILE: versionFile, BENCH_BOOT_MS: String(bootMs) },
      onLine: (line) => { if (line.startsWith('listening ')) onListening(); },
    });
    const current = proc;
    const outcome = await Promise.race([
      listening.then(() => 'listening'),
      current.exited.then((e) => `exited (${e.code ?? e.signal}): ${current.stderr().slice(-500)}`),
      new Promise((resolve) => setTimeout(() => resolve('not listening within 20 s'), 20_000)),
    ]);
    if (outcome !== 'listening') throw new Error(`${id}: ${app} ${outcome}`);
  };
  const contender = {
    id,
    label: 'bare node',
    url: '',
    async start() {
      writeVersion(versionFile, 'v0');
      port = await freePort();
      contender.url = `http://127.0.0.1:${port}/`;
      await launch();
    },
    /** @param {string} version */
    async deploy(version) {
      writeVersion(versionFile, version);
      const triggerMs = now();
      const old = /** @type {NonNullable<typeof proc>} */ (proc);
      signal(old.child.pid, 'SIGTERM');
      await exitWithin(old, STOP_TIMEOUT_MS);
      await launch();
      return { triggerMs, doneMs: now() };
    },
    supervisorPid: () => null,
    async stop() {
      if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
        signal(proc.child.pid, 'SIGTERM');
        await exitWithin(proc, STOP_TIMEOUT_MS);
      }
    },
  };
  return contender;
}

/**
 * overseer: `bin/overseer.js start <app> --listen 127.0.0.1:0 --workers N
 * --control <dir>/<id>.sock` (a control socket private to this run, so two
 * benches on one machine never meet in the default directory).
 * Deploy = SIGUSR2; done at `upgrade.succeeded` plus the `worker.exited` of
 * every worker of an older generation.
 *
 * Self-upgrade (`overseer upgrade --self`): the master in charge changes.
 * The successor is not our child; it writes to the same stdout pipe, so its
 * events arrive here too. Its pid is tracked from `succession.started` (and
 * checked against the CLI's answer); from `succession.handed-over` on it is
 * the master in charge, and the exit of a master that handed over ends no
 * wait. `stop()` sends SIGTERM to the master in charge and waits, polling
 * with a deadline, until every master this contender started or learned of
 * is gone; at the deadline it SIGKILLs those still tracked.
 * @param {{ app: string, dir: string, workers: number | 'max', bootMs?: number, id?: string, extraArgs?: string[] }} options
 */
export function overseer({ app, dir, workers, bootMs = 0, id = `overseer-${workers}`, extraArgs = [] }) {
  const versionFile = join(dir, `${id}-${app}.version`);
  /** @type {Array<Record<string, any>>} */
  const events = [];
  /** @type {Set<() => void>} */
  const waiters = new Set();
  /** @type {Map<number, { pid: number, generation: number }>} workerId → live worker */
  const workers_ = new Map();
  /** @type {ReturnType<typeof spawnTracked> | null} */
  let proc = null;
  const control = join(dir, `${id}.sock`);
  /** The master in charge: the one we spawned, then each successor that took over. */
  let masterPid = 0;
  /** @type {Set<number>} every master pid we spawned or were told of (`succession.started`) */
  const masters = new Set();
  /** The master we spawned is still in charge (once it has handed over, its exit is expected). */
  const inCharge = () => masterPid === proc?.child.pid;

  /**
   * The first event from index `after` that matches, with a deadline; rejects if the master exits first.
   * @param {(e: Record<string, any>) => boolean} match
   */
  const waitFor = (match, { after = 0, timeoutMs = DEPLOY_TIMEOUT_MS, what = 'event' } = {}) => new Promise((resolve, reject) => {
    const check = () => {
      const found = events.slice(after).find(match);
      if (found) { finish(); resolve(found); }
    };
    const timer = setTimeout(() => { finish(); reject(new Error(`${id}: no ${what} within ${timeoutMs} ms; stderr: ${proc?.stderr().slice(-500)}`)); }, timeoutMs);
    const finish = () => { clearTimeout(timer); waiters.delete(check); };
    waiters.add(check);
    proc?.exited.then(() => { if (waiters.has(check) && inCharge()) { finish(); reject(new Error(`${id}: master exited before ${what}; stderr: ${proc?.stderr().slice(-500)}`)); } });
    check();
  });

  const onLine = (line) => {
    if (!line.startsWith('{')) return; // the apps' own output
    let e;
    try { e = JSON.parse(line); } catch { return; }
    if (typeof e.event !== 'string') return;
    e.benchMs = now(); // when the bench read it (bench clock)
    if (e.event === 'worker.spawned') { track(e.pid); workers_.set(e.workerId, { pid: e.pid, generation: e.generation }); }
    // A successor's workers are logged by the successor; match the pid so that a reused workerId never removes a live one.
    if (e.event === 'worker.exited' && workers_.get(e.workerId)?.pid === e.pid) workers_.delete(e.workerId);
    if (e.event === 'succession.started') { track(e.successorPid); masters.add(e.successorPid); }
    if (e.event === 'succession.handed-over') masterPid = e.successorPid;
    events.push(e);
    for (const check of [...waiters]) check();
  };

  const contender = {
    id,
    label: `overseer --workers ${workers}`,
    url: '',
    events,
    async start() {
      writeVersion(versionFile, 'v0');
      proc = spawnTracked(process.execPath, [overseerBin, 'start', appScript(app), '--listen', '127.0.0.1:0', '--log-format', 'json', '--workers', String(workers), '--name', id, '--control', control, ...extraArgs], {
        env: { ...process.env, BENCH_VERSION_FILE: versionFile, BENCH_BOOT_MS: String(bootMs) },
        onLine,
      });
      masterPid = /** @type {number} */ (proc.child.pid);
      masters.add(masterPid);
      const started = await waitFor((e) => e.event === 'master.started', { what: 'master.started' });
      const tcp = started.listeners.find((l) => l.kind === 'tcp');
      contender.url = `http://127.0.0.1:${tcp.port}/`;
      await waitFor((e) => e.event === 'master.ready', { what: 'master.ready' });
    },
    /** @param {string} version */
    async deploy(version) {
      writeVersion(versionFile, version);
      const after = events.length;
      const triggerMs = now();
      signal(/** @type {number} */ (proc?.child.pid), 'SIGUSR2');
      const outcome = await waitFor((e) => e.event === 'upgrade.succeeded' || e.event === 'upgrade.failed', { after, what: 'upgrade outcome' });
      if (outcome.event === 'upgrade.failed') {
        const tail = Array.isArray(outcome.stderr) ? ` stderr: ${outcome.stderr.slice(-5).join(' | ')}` : '';
        throw new UpgradeFailed(`${id}: ${outcome.msg ?? outcome.reason}${tail}`);
      }
      const old = [...workers_.entries()].filter(([, w]) => w.generation < outcome.generation).map(([workerId]) => workerId);
      for (const workerId of old) {
        await waitFor((e) => e.event === 'worker.exited' && e.workerId === workerId, { after, what: `worker ${workerId} to exit` });
      }
      const doneMs = now();
      // The master's own phase times (docs/upgrade.md, "Phase times"); `drained` from upgrade.completed.
      const completed = await waitFor((e) => e.event === 'upgrade.completed' && e.generation === outcome.generation, { after, what: 'upgrade.completed' });
      const phases = outcome.phases ? { ...outcome.phases.generation, drained: completed.durationMs } : undefined;
      return { triggerMs, doneMs, phases };
    },
    /**
     * `overseer upgrade --self --json`; done when the CLI has exited 0 and the
     * old master is gone (it drains its workers first).
     * @param {string} version
     */
    async selfUpgrade(version) {
      writeVersion(versionFile, version);
      const after = events.length;
      const previousPid = masterPid;
      const triggerMs = now();
      const oldGone = goneAt(previousPid, { timeoutMs: DEPLOY_TIMEOUT_MS });
      let stdout = '';
      const cli = spawnTracked(process.execPath, [overseerBin, 'upgrade', '--self', '--json', '--control', control], {
        onLine: (line) => { stdout += line; },
      });
      const { code } = await exitWithin(cli, DEPLOY_TIMEOUT_MS);
      const cliMs = now();
      /** @type {any} */
      let outcome = null;
      try { outcome = JSON.parse(stdout); } catch { /* judged below */ }
      if (code !== 0 || !outcome?.ok) {
        throw new UpgradeFailed(`${id}: upgrade --self exited ${code}: ${stdout || cli.stderr().slice(-500)}`);
      }
      const started = await waitFor((e) => e.event === 'succession.started', { after, what: 'succession.started' });
      if (started.successorPid !== outcome.pid) throw new Error(`${id}: the CLI names successor ${outcome.pid}, the log ${started.successorPid}`);
      const held = await waitFor((e) => e.event === 'succession.held' && e.successorPid === outcome.pid, { after, what: 'succession.held' });
      const handedOver = await waitFor((e) => e.event === 'succession.handed-over' && e.successorPid === outcome.pid, { after, what: 'succession.handed-over' });
      // Where the time went (ms after the trigger, when the bench read each line).
      const phases = { started: started.benchMs - triggerMs, held: held.benchMs - triggerMs, handedOver: handedOver.benchMs - triggerMs };
      // The successor's own account of the port it holds (it never binds one: it was handed the socket).
      const successorStarted = events.slice(after).find((e) => e.event === 'master.started' && e.masterPid === outcome.pid);
      const port = successorStarted?.listeners?.find((/** @type {any} */ l) => l.kind === 'tcp')?.port;
      const oldGoneMs = await oldGone;
      // The exit code is known only for the master we spawned (a successor is not our child).
      const oldExit = previousPid === proc?.child.pid && oldGoneMs !== null ? await proc.exited : null;
      return { triggerMs, cliMs, oldGoneMs, oldExitCode: oldExit ? oldExit.code ?? oldExit.signal : null, previousPid, pid: outcome.pid, port, overseerMs: outcome.durationMs, generation: outcome.generation, phases };
    },
    supervisorPid: () => (masterPid || null),
    workerPids: () => [...workers_.values()].map((w) => w.pid),
    waitFor,
    async stop() {
      if (!proc) return;
      if (inCharge()) {
        if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
        signal(proc.child.pid, 'SIGTERM');
        await exitWithin(proc, STOP_TIMEOUT_MS);
      } else {
        // Not our child: signalled only while it is still the process we were told of.
        if (isTrackedAlive(masterPid)) signal(masterPid, 'SIGTERM');
        const all = [...masters];
        try {
          await waitUntil(() => all.every((pid) => !isAlive(pid)), { timeoutMs: STOP_TIMEOUT_MS, intervalMs: 20, what: `${id}'s masters ${all.join(', ')} to exit` });
        } finally {
          for (const pid of all) if (isTrackedAlive(pid)) signal(pid, 'SIGKILL');
        }
      }
      // Workers drain and exit on their own; any still here after the master (only if it was SIGKILLed) go too.
      for (const w of workers_.values()) if (isTrackedAlive(w.pid)) signal(w.pid, 'SIGKILL');
    },
  };
  return contender;
}

/**
 * PM2, in cluster mode (`-i N`) or fork mode. Deploy = `pm2 reload <name>`;
 * done when it has returned, every old pid is gone and `pm2 jlist` lists only
 * new, online pids. `graceful` runs the app with PM2's documented recipe.
 * Self-upgrade = `pm2 update` (PM2's CLI, in the bench's PM2_HOME); done when
 * the CLI has exited and `pm2 jlist` lists as many online pids as before, all
 * new.
 * `extra`: more fields of PM2's app declaration (e.g. `max_memory_restart`).
 * @param {{ pm2: import('./pm2.mjs').Pm2, app: string, dir: string, mode: 'cluster' | 'fork', instances?: number | 'max', graceful?: boolean, bootMs?: number, id: string, label: string, extra?: Record<string, any> }} options
 */
export function pm2({ pm2: daemon, app, dir, mode, instances = 1, graceful = false, bootMs = 0, id, label, extra }) {
  const versionFile = join(dir, `${id}-${app}.version`);
  let pids = /** @type {number[]} */ ([]);
  const contender = {
    id,
    label,
    url: '',
    async start() {
      writeVersion(versionFile, 'v0');
      const port = await freePort();
      contender.url = `http://127.0.0.1:${port}/`;
      await daemon.start({
        name: id,
        script: appScript(app),
        mode,
        instances,
        graceful,
        extra,
        env: { PORT: String(port), HOST: '127.0.0.1', BENCH_VERSION_FILE: versionFile, BENCH_BOOT_MS: String(bootMs), BENCH_PM2_GRACEFUL: graceful ? '1' : '0' },
      });
      const online = await waitUntil(() => daemon.online(id), { timeoutMs: 20_000, intervalMs: 50, what: `${id} online in pm2 jlist` });
      pids = online.map((p) => p.pid);
      if (app === 'heal') await waitUntil(async () => (await servedVersion(contender.url)) !== null, { timeoutMs: 20_000, intervalMs: 20, what: `${contender.url} to answer` }); // it answers with its pid, not a version
      else await waitServing(contender.url, 'v0', isH2App(app));
    },
    /** @param {string} version */
    async deploy(version) {
      const old = (await daemon.online(id))?.map((p) => p.pid) ?? pids;
      writeVersion(versionFile, version);
      const triggerMs = now();
      await daemon.reload(id);
      await waitUntil(() => old.every((pid) => !isAlive(pid)), { timeoutMs: DEPLOY_TIMEOUT_MS, what: `${id}'s old pids to exit` });
      let doneMs = now();
      let first = true;
      const fresh = await waitUntil(async () => {
        const online = await daemon.online(id);
        const ok = online && online.every((p) => !old.includes(p.pid)) ? online : null;
        if (!ok) first = false;
        return ok;
      }, { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: 20, what: `${id} to list only new online pids` });
      if (!first) doneMs = now(); // only if the list lagged; otherwise the old pids' exit was the end
      pids = fresh.map((p) => p.pid);
      return { triggerMs, doneMs };
    },
    /** @param {string} version */
    async selfUpgrade(version) {
      const old = (await daemon.online(id))?.map((p) => p.pid) ?? pids;
      const previousPid = daemon.daemonPid();
      if (previousPid === null) throw new Error(`${id}: no PM2 daemon pid in ${daemon.home}`);
      await daemon.disconnect(); // before the trigger: only the CLI talks to the daemon while it is replaced
      writeVersion(versionFile, version);
      const triggerMs = now();
      const oldGone = goneAt(previousPid, { timeoutMs: DEPLOY_TIMEOUT_MS });
      const { code, signal: sig, output } = await daemon.update(DEPLOY_TIMEOUT_MS);
      const cliMs = now();
      if (code !== 0) throw new UpgradeFailed(`${id}: pm2 update exited ${code ?? sig}: ${output.slice(-500)}`);
      const fresh = await waitUntil(async () => {
        const online = await daemon.online(id);
        return online && online.length === old.length && online.every((p) => !old.includes(p.pid)) ? online : null;
      }, { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: 20, what: `${id} to list ${old.length} new online pids after pm2 update` });
      pids = fresh.map((p) => p.pid);
      const oldGoneMs = await oldGone;
      await waitUntil(() => old.every((pid) => !isAlive(pid)), { timeoutMs: DEPLOY_TIMEOUT_MS, what: `${id}'s old pids to exit` });
      return { triggerMs, cliMs, oldGoneMs, previousPid, pid: daemon.daemonPid() };
    },
    supervisorPid: () => daemon.daemonPid(),
    /** @returns {Promise<number[]>} the app's pids in `pm2 jlist` */
    workerPids: async () => (await daemon.list()).filter((p) => p.name === id && p.pid > 0).map((p) => p.pid),
    async stop() {
      await daemon.delete(id);
      await waitUntil(() => pids.every((pid) => !isAlive(pid)), { timeoutMs: STOP_TIMEOUT_MS, what: `${id}'s pids to exit` });
    },
  };
  return contender;
}
