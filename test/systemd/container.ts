/**
 * A real systemd (the host's, 252 on Debian 12) as PID 1 of a systemd-nspawn
 * container, for the systemd tier. The container boots the host's own root
 * through an overlay (boot-container.sh), with a network namespace of its
 * own (only `lo`: a fixed port cannot clash with anything on the host), and
 * the app's directory bound in read-write so the test can deploy releases.
 *
 * Everything it starts is ended by PID in `teardown()`: nspawn (SIGTERM,
 * which powers the container off cleanly), then the container's systemd if
 * it outlived nspawn, then the cgroup directories, which must be empty by
 * then. A run killed before its teardown leaves a cgroup named after its
 * pid; the next run ends what is left in it (our processes, by construction).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../helpers/processes.js';

const BOOT = new URL('boot-container.sh', import.meta.url).pathname;
const PREFIX = 'overseer-systemd-';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The cgroup hierarchies systemd uses here: v1's name=systemd, the hybrid's unified, or the v2 root. */
function hierarchies(): string[] {
  const all = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'];
  return all.filter((dir) => {
    try {
      const text = readFileSync('/proc/self/mountinfo', 'utf8');
      return text.split('\n').some((line) => line.split(' ')[4] === dir && / - cgroup2? /.test(line));
    } catch {
      return false;
    }
  });
}

/** Where fetch-nspawn.sh puts systemd-nspawn when given no directory. */
const CACHED = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'overseer/systemd-container/usr/bin/systemd-nspawn');

/**
 * The systemd-nspawn to use: `$OVERSEER_TEST_NSPAWN` (CI sets it: then it
 * must work), else one on PATH, else fetch-nspawn.sh's cache.
 */
export function findNspawn(): { path: string | undefined; required: boolean } {
  const given = process.env.OVERSEER_TEST_NSPAWN;
  if (given !== undefined && given !== '') return { path: given, required: true };
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'systemd-nspawn'))) return { path: join(dir, 'systemd-nspawn'), required: false };
  }
  return { path: existsSync(CACHED) ? CACHED : undefined, required: false };
}

/** Why the tier cannot run here, or undefined if it can. */
export function cannotRun(nspawn: string | undefined): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (namespaces, cgroups, mounts)';
  if (nspawn === undefined) return 'no systemd-nspawn: run test/systemd/fetch-nspawn.sh (it fetches Debian\'s systemd-container, without installing it) or set OVERSEER_TEST_NSPAWN';
  if (readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd') return 'the host\'s PID 1 is systemd: this tier makes the container\'s cgroup by hand, which is for hosts without one';
  if (!existsSync('/bin/systemctl') && !existsSync('/usr/bin/systemctl')) return 'no systemd on this host to boot';
  if (hierarchies().length === 0) return 'no cgroup hierarchy for systemd (/sys/fs/cgroup)';
  return undefined;
}

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface Container {
  /** The container's systemd, as a host pid. */
  readonly leader: number;
  /** Run a command inside the container (all its namespaces, a clean environment). */
  run(argv: readonly string[], timeoutMs?: number): Promise<Result>;
  /** Prefix for a host program that must run in the container's network namespace. */
  readonly inNetwork: readonly string[];
  /** What the container printed (its console), for a failure's message. */
  console(): string;
  teardown(): Promise<void>;
}

/** Run a host program; resolves with its exit code and output (never rejects on a non-zero exit). */
export function exec(argv: readonly string[], timeoutMs = 30_000): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` every `everyMs` until it returns a value, or throw after `timeoutMs`. */
async function until<T>(what: string, timeoutMs: number, everyMs: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs); // polling interval of a state we cannot be told about
  }
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};
const children = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const procsIn = (dir: string): number[] => {
  const found: number[] = [];
  const walk = (d: string) => {
    try {
      found.push(...readFileSync(join(d, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).map(Number));
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    } catch {
      // gone meanwhile
    }
  };
  walk(dir);
  return found;
};
const removeTree = (dir: string) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(join(dir, entry.name));
  rmdirSync(dir);
};

/**
 * What a run killed before its teardown left: its cgroups (named after its
 * pid, which is gone). The processes in them were started by that run.
 */
async function clearLeftovers(): Promise<void> {
  for (const hierarchy of hierarchies()) {
    for (const entry of readdirSync(hierarchy)) {
      if (!entry.startsWith(PREFIX) || isAlive(Number(entry.slice(PREFIX.length)))) continue;
      const dir = join(hierarchy, entry);
      for (const pid of procsIn(dir)) process.kill(pid, 'SIGKILL');
      await until(`the processes left in ${dir} to end`, 10_000, 100, () => (procsIn(dir).length === 0 ? true : undefined));
      removeTree(dir);
    }
  }
}

export interface BootOptions {
  readonly nspawn: string;
  /** [host path, container path, read-only]. */
  readonly binds: ReadonlyArray<readonly [string, string, boolean]>;
  /** nspawn's stdout and stderr go there. */
  readonly logFile: string;
}

export async function boot(options: BootOptions): Promise<Container> {
  await clearLeftovers();
  const cgroup = `${PREFIX}${process.pid}`;
  const args = [
    '--quiet', '--boot', '--register=no', '--keep-unit', `--machine=${cgroup}`, '--private-network', '--console=read-only',
    ...options.binds.map(([host, inside, readOnly]) => `--bind${readOnly ? '-ro' : ''}=${host}:${inside}`),
    // Only what a service needs: the host's own services (multi-user.target) stay off.
    'systemd.unit=basic.target', 'systemd.mask=timers.target',
  ];
  const log = openSync(options.logFile, 'w');
  // detached: a session of its own, away from the test's terminal and signals.
  const nspawn: ChildProcess = spawn(BOOT, [cgroup, options.nspawn, ...args], { stdio: ['ignore', log, log], detached: true });
  const nspawnPid = nspawn.pid!;
  const exited = new Promise<void>((resolve) => nspawn.once('exit', () => resolve()));
  let leader = 0;

  const teardown = async () => {
    // nspawn turns SIGTERM into a clean poweroff of the container.
    if (isAlive(nspawnPid) && cmdline(nspawnPid).some((word) => word === `--machine=${cgroup}`)) {
      process.kill(nspawnPid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
      clearTimeout(timer);
      if (isAlive(nspawnPid)) process.kill(nspawnPid, 'SIGKILL');
    }
    // Its systemd, should it outlive nspawn: SIGKILL to a PID 1 ends its whole namespace.
    if (leader !== 0 && isAlive(leader) && readFileSync(`/proc/${leader}/cgroup`, 'utf8').includes(`/${cgroup}`)) {
      process.kill(leader, 'SIGKILL');
    }
    for (const hierarchy of hierarchies()) {
      const dir = join(hierarchy, cgroup);
      if (!existsSync(dir)) continue;
      await until(`the processes in ${dir} to end`, 10_000, 100, () => (procsIn(dir).length === 0 ? true : undefined));
      removeTree(dir);
    }
  };

  try {
    // The container's PID 1 is nspawn's child running systemd.
    leader = await until('the container\'s systemd to start', 15_000, 50, () => {
      if (!isAlive(nspawnPid)) throw new Error(`systemd-nspawn exited: ${readFileSync(options.logFile, 'utf8').slice(-2000)}`);
      return children(nspawnPid).find((pid) => cmdline(pid)[0]?.endsWith('systemd') || readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd');
    });
    const enter = ['nsenter', '-t', String(leader), '-m', '-u', '-i', '-n', '-p', '-C', '--', 'env', '-i', `PATH=${PATH}`, 'LANG=C.UTF-8', 'SYSTEMD_PAGER=', 'SYSTEMD_COLORS=0'];
    const run = (argv: readonly string[], timeoutMs?: number) => exec([...enter, ...argv], timeoutMs);
    // The manager's bus appears a moment after PID 1; the boot is over when it says so.
    const state = await until('the container to boot', 60_000, 200, async () => {
      const { stdout } = await run(['systemctl', 'is-system-running']);
      return /^(running|degraded)$/m.test(stdout) ? stdout.trim() : undefined;
    });
    if (state !== 'running') {
      const failed = await run(['systemctl', '--failed', '--no-legend', '--no-pager']);
      process.stderr.write(`systemd tier: the container is ${state}:\n${failed.stdout}`);
    }
    return {
      leader,
      run,
      inNetwork: ['nsenter', '-t', String(leader), '-n', '--'],
      console: () => readFileSync(options.logFile, 'utf8'),
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/**
 * Of `paths`, those the container would not show as they are on the host,
 * which must be bound in: those on another file system (the overlay has the
 * root file system only), and those under a directory that nspawn or the
 * container's systemd mounts afresh (/tmp, /run, /var/tmp, /dev).
 */
export function hiddenIn(paths: readonly string[]): string[] {
  const root = statSync('/').dev;
  return paths.filter((path) => statSync(path).dev !== root || /^\/(tmp|run|var\/tmp|dev)(\/|$)/.test(path));
}
