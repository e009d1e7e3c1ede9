/**
 * One PM2 daemon, private to the bench, driven through PM2's programmatic API
 * from a forked client (bench/pm2-agent.mjs).
 *
 * Contracts:
 * - PM2_HOME is a fresh temporary directory: a user's ~/.pm2 and any PM2
 *   daemon of theirs are never touched. PM2's phone-home version check is
 *   disabled (PM2_DISABLE_VERSION_CHECK and the `touch` marker it looks for),
 *   so the bench makes no network traffic beyond loopback.
 * - The daemon starts on first use. `kill()` asks it to stop (`pm2 kill`
 *   through the API), then SIGKILLs the daemon and any app pid seen in a
 *   list that is still alive, and removes PM2_HOME. It is registered as a
 *   cleanup (async, and sync at exit via the pm2 CLI), so the daemon never
 *   outlives the bench.
 * - Every command has a deadline.
 * - `update()` runs `pm2 update` with the pm2 CLI in this PM2_HOME only (the
 *   daemon it kills and the one it starts are this object's); the agent is
 *   disconnected first, so that only the CLI talks to the daemon meanwhile,
 *   and the next command connects a new one to the new daemon (and tracks
 *   its pid).
 */
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR } from './deps.mjs';
import { isAlive, isTrackedAlive, onCleanup, onCleanupSync, signal, spawnTracked, track, untrack } from './procs.mjs';

export class Pm2 {
  /**
   * `env`: more environment for the daemon, e.g. PM2_WORKER_INTERVAL (ms
   * between its memory checks, 30 000 by default).
   * @param {{ version: string, entry: string, dir: string }} tool @param {{ env?: Record<string, string> }} [options]
   */
  constructor(tool, { env = {} } = {}) {
    this.tool = tool;
    this.home = mkdtempSync(join(tmpdir(), 'overseer-bench-pm2-'));
    writeFileSync(join(this.home, 'touch'), String(Date.now()));
    this.env = { ...process.env, PM2_HOME: this.home, PM2_DISABLE_VERSION_CHECK: 'true', ...env };
    /** @type {Set<number>} app pids seen in a list */
    this.appPids = new Set();
    this.killed = false;
    /** @type {Promise<import('node:child_process').ChildProcess> | null} */
    this.agent = null;
    this.seq = 0;
    onCleanup(() => this.kill());
    onCleanupSync(() => this.killSync());
  }

  /** The agent, forked and connected on first use (which starts the daemon). */
  connect() {
    this.agent ??= new Promise((resolve, reject) => {
      const child = fork(join(BENCH_DIR, 'pm2-agent.mjs'), [], {
        env: { ...this.env, PM2_BENCH_ENTRY: this.tool.dir },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      track(child.pid);
      let stderr = '';
      child.stderr?.on('data', (c) => { stderr = (stderr + c).slice(-2000); });
      const timer = setTimeout(() => reject(new Error('pm2: no connection to the daemon within 30 s')), 30_000);
      child.once('exit', (code) => { untrack(child.pid); clearTimeout(timer); reject(new Error(`pm2 agent exited (${code}): ${stderr}`)); });
      child.on('message', (m) => {
        if (m?.type === 'connected') { clearTimeout(timer); track(this.daemonPid() ?? undefined); resolve(child); }
        if (m?.type === 'error') { clearTimeout(timer); reject(new Error(`pm2 connect: ${m.message}`)); }
      });
    });
    return this.agent;
  }

  /**
   * @param {string} cmd @param {any} [arg] @param {number} [timeoutMs]
   * @returns {Promise<any>}
   */
  async call(cmd, arg, timeoutMs = 60_000) {
    const agent = await this.connect();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m?.id !== id) return;
        done();
        if (m.ok) resolve(m.result);
        else reject(new Error(`pm2 ${cmd} ${arg?.name ?? arg ?? ''}: ${m.message}`));
      };
      const onExit = () => { done(); reject(new Error(`pm2 agent exited during ${cmd}`)); };
      const timer = setTimeout(() => { done(); reject(new Error(`pm2 ${cmd}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); agent.off('message', onMessage); agent.off('exit', onExit); };
      agent.on('message', onMessage);
      agent.once('exit', onExit);
      agent.send({ id, cmd, arg });
    });
  }

  /** @returns {number | null} the daemon's pid, from PM2_HOME/pm2.pid */
  daemonPid() {
    try {
      const pid = Number(readFileSync(join(this.home, 'pm2.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /**
   * Start an app (what `pm2 start <script> --name … [-i N] [--wait-ready
   * --listen-timeout … --kill-timeout …]` does).
   * @param {{ name: string, script: string, mode: 'cluster' | 'fork', instances?: number | 'max', graceful?: boolean, extra?: Record<string, any>, env: Record<string, string> }} app
   */
  async start({ name, script, mode, instances = 1, graceful = false, extra = {}, env }) {
    /** @type {Record<string, any>} */
    const app = { name, script, exec_mode: mode, env, ...extra };
    if (mode === 'cluster') app.instances = instances;
    // PM2's documented graceful start/shutdown: wait for process.send('ready'),
    // give it listen_timeout to get there, kill_timeout to exit after SIGINT.
    if (graceful) Object.assign(app, { wait_ready: true, listen_timeout: 10_000, kill_timeout: 3000 });
    await this.call('start', app);
  }

  /** @returns {Promise<Array<{ name: string, pmId: number, pid: number, status: string }>>} */
  async list() {
    const procs = await this.call('list');
    for (const p of procs) {
      if (p.pid > 0) {
        this.appPids.add(p.pid);
        track(p.pid);
      }
    }
    return procs;
  }

  /** @param {string} name @returns {Promise<Array<{ pid: number }> | null>} its processes, if all are online */
  async online(name) {
    const procs = (await this.list()).filter((p) => p.name === name);
    return procs.length > 0 && procs.every((p) => p.status === 'online' && p.pid > 0) ? procs : null;
  }

  /** @param {string} name */
  reload(name) {
    return this.call('reload', name);
  }

  /** @param {string} name */
  delete(name) {
    return this.call('delete', name);
  }

  /**
   * Disconnect the agent (it leaves on its own: pm2-agent.mjs) and wait for
   * its exit; the next command forks a new one.
   */
  async disconnect(timeoutMs = 10_000) {
    const agent = this.agent;
    this.agent = null;
    const child = agent ? await agent.catch(() => null) : null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => { if (isTrackedAlive(child.pid)) signal(child.pid, 'SIGKILL'); }, timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /**
   * `pm2 update`, with PM2's own CLI: it saves the process list, kills the
   * daemon and every app, starts a new daemon and resurrects the apps. Resolves
   * when the CLI has exited, with its exit code and the end of its output;
   * SIGKILLs it at the deadline.
   * @returns {Promise<{ code: number | null, signal: string | null, output: string }>}
   */
  async update(timeoutMs = 60_000) {
    await this.disconnect();
    let output = '';
    const proc = spawnTracked(process.execPath, [this.tool.entry, 'update'], {
      env: this.env,
      onLine: (line) => { output = `${output}${line}\n`.slice(-2000); },
    });
    const timer = setTimeout(() => { if (isTrackedAlive(proc.child.pid)) signal(proc.child.pid, 'SIGKILL'); }, timeoutMs);
    const { code, signal: sig } = await proc.exited;
    clearTimeout(timer);
    track(this.daemonPid() ?? undefined); // the new daemon, started by the CLI
    return { code, signal: sig, output: `${output}${proc.stderr()}`.slice(-2000) };
  }

  /** Stop the daemon and its apps, then make sure nothing of it survives. */
  async kill() {
    if (this.killed) return;
    if (this.agent && this.daemonPid() !== null) {
      try {
        await this.call('kill', undefined, 20_000);
      } catch (err) {
        process.stderr.write(`bench: ${err.message}\n`);
      }
    }
    this.killSync();
  }

  killSync() {
    if (this.killed) return;
    this.killed = true;
    this.agent?.then((child) => { if (child.connected) child.disconnect(); }, () => {});
    const daemon = this.daemonPid();
    if (daemon !== null && isAlive(daemon)) {
      spawnSync(process.execPath, [this.tool.entry, 'kill'], { env: this.env, timeout: 10_000, stdio: 'ignore' });
      if (isTrackedAlive(daemon)) signal(daemon, 'SIGKILL');
    }
    for (const pid of this.appPids) if (isTrackedAlive(pid)) signal(pid, 'SIGKILL');
    rmSync(this.home, { recursive: true, force: true });
  }
}
