/**
 * The one validation pipeline for `overseer start`: raw values (from the CLI
 * or the API) → defaults → per-field checks whose messages name the option and
 * the value received → a frozen `MasterOptions`.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { logicalCwd } from '../../cwd.js';
import { ConfigError } from '../../errors.js';
import type { ListenAddress } from '../../ipc/address.js';
import { socketPathProblem } from '../../ipc/socket-path.js';
import { checkDistinctListen } from './distinct-listen.js';
import { DEFAULTS, MAX_WORKERS } from '../../defaults.js';
import { type HealthOptions, type RawHealthOptions, parseHealthOptions } from './self-healing.js';
import { type TcpAddress, parseMetricsAddress } from './metrics-address.js';
import { parseListenAddress } from './parse-address.js';
import { resolveIdentity } from './users.js';

export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RawStartOptions extends RawHealthOptions {
  script?: string;
  scriptArgs?: readonly string[];
  listen?: readonly string[];
  workers?: string | number;
  waitReady?: boolean;
  readyTimeout?: string | number;
  drainTimeout?: string | number;
  killTimeout?: string | number;
  closeSpread?: string | number;
  websocketClose?: boolean;
  watch?: boolean | readonly string[];
  watchDebounce?: string | number;
  pidFile?: string;
  name?: string;
  logLevel?: string;
  logFormat?: string;
  nodeArg?: readonly string[];
  restartDelay?: string | number;
  restartDelayMax?: string | number;
  control?: string;
  /** `<script>` is any program that takes its sockets the systemd way. */
  exec?: boolean;
  readyDelay?: string | number;
  user?: string;
  group?: string;
  /** Serve Prometheus metrics on this TCP address (metrics-address.ts). */
  metrics?: string;
  /** Base directory for relative paths; the master's logical cwd by default. */
  cwd?: string;
}

export interface MasterOptions extends HealthOptions {
  /** As given; resolved against `cwd` again at every spawn (symlinked deploys). */
  readonly script: string;
  readonly scriptArgs: readonly string[];
  /** The logical working directory (keeps a `current -> releases/N` symlink unresolved). */
  readonly cwd: string;
  readonly listen: readonly ListenAddress[];
  readonly workers: number;
  readonly waitReady: boolean;
  readonly readyTimeoutMs: number;
  readonly drainTimeoutMs: number;
  /** After SIGTERM at the drain deadline, how long until SIGKILL. */
  readonly killTimeoutMs: number;
  /** Draining connections are told to go at moments spread over this window (close-spread.ts). */
  readonly closeSpreadMs: number;
  /** Draining workers close WebSockets with a close frame; false: left to the app (`--no-websocket-close`). */
  readonly websocketClose: boolean;
  /** Paths whose changes trigger an upgrade; empty = no watching. */
  readonly watch: readonly string[];
  readonly watchDebounceMs: number;
  readonly pidFile: string | undefined;
  readonly name: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly nodeArgs: readonly string[];
  readonly restartDelayMs: number;
  readonly restartDelayMaxMs: number;
  /** A worker live this long has its crash backoff reset. */
  readonly restartResetMs: number;
  /** The control socket given with `--control`; otherwise the default location (control-path.ts). */
  readonly control: string | undefined;
  /** Workers are `script` run as a program (not by node), sockets at fds 3… */
  readonly exec: boolean;
  /** `--exec` workers not saying READY=1 are taken as ready this long after spawn. */
  readonly readyDelayMs: number | undefined;
  /** Identity the workers run as (`--user`, `--group`); undefined = the master's. */
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** Where the master serves Prometheus metrics (src/master/metrics/); undefined: not served. */
  readonly metrics: TcpAddress | undefined;
}

/** Re-exported: the pipeline's defaults are part of its public contract (src/index.ts). */
export { DEFAULTS, MAX_WORKERS };


/**
 * Node options that make `node` run something other than the script (or
 * nothing), so the worker would never start the app.
 */
const NOT_A_WORKER_OPTION = /^(-e|--eval|-p|--print|-c|--check|-i|--interactive|--test|-v|--version|-h|--help|--v8-options|--run|--watch|--watch-path)(=|$)/;

function workerCount(value: string | number | undefined): number {
  if (value !== undefined && String(value) === 'max') return Math.min(availableParallelism(), MAX_WORKERS);
  const n = integer('--workers', value, DEFAULTS.workers, 1);
  if (n > MAX_WORKERS) throw new ConfigError(`--workers must be at most ${MAX_WORKERS}, got \`${String(value)}\``);
  return n;
}

/**
 * Each `--node-arg` is one node option, value included (`--require=./x.js`):
 * a bare word would become node's script and run in place of the app.
 * Whether node accepts the option is checked at start-up (preflight.ts).
 */
function nodeArgs(values: readonly string[]): readonly string[] {
  for (const arg of values) {
    if (!/^--?[A-Za-z]/.test(arg)) {
      throw new ConfigError(`--node-arg must be one node option starting with -, with its value after = (e.g. --node-arg=--require=./setup.js), got \`${arg}\``);
    }
    if (NOT_A_WORKER_OPTION.test(arg)) throw new ConfigError(`--node-arg makes node run something other than the script, got \`${arg}\``);
  }
  return Object.freeze([...values]);
}

function integer(option: string, value: string | number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    const what = min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new ConfigError(`${option} must be ${what}, got \`${String(value)}\``);
  }
  return n;
}

function oneOf<T extends string>(option: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${option} must be one of ${allowed.join(', ')}, got \`${value}\``);
  }
  return value as T;
}

export function parseStartOptions(raw: RawStartOptions): MasterOptions {
  if (!raw.script) throw new ConfigError('missing the script to run: overseer start <script>');
  const cwd = raw.cwd ?? logicalCwd();
  const workers = workerCount(raw.workers);
  const watch = raw.watch === true ? [raw.script] : Array.isArray(raw.watch) ? [...raw.watch] : [];
  const listen = (raw.listen ?? []).map((text) => {
    const address = parseListenAddress(text);
    return address.kind === 'unix' ? { ...address, path: resolve(cwd, address.path) } : address;
  });
  for (const address of listen) {
    if (address.kind !== 'unix') continue;
    const problem = socketPathProblem(address.path);
    if (problem) throw new ConfigError(`--listen unix:${address.path} ${problem}`);
  }
  checkDistinctListen(listen, raw.listen ?? []);
  const metrics = parseMetricsAddress(raw.metrics, listen, raw.listen ?? []);
  const exec = raw.exec ?? false;
  if (raw.readyDelay !== undefined && !exec) throw new ConfigError(`--ready-delay applies only with --exec, got \`${String(raw.readyDelay)}\``);
  if (exec && raw.nodeArg?.length) throw new ConfigError(`--node-arg does not apply with --exec (the program is not run by node), got \`${raw.nodeArg[0]}\``);
  if (exec && raw.watch === true && !raw.script.includes('/')) {
    throw new ConfigError(`--watch without paths watches the script, but with --exec \`${raw.script}\` is a program looked up in PATH: give the paths to watch`);
  }
  if (exec && raw.waitReady) throw new ConfigError('--wait-ready does not apply with --exec: a program says ready by writing READY=1 to $OVERSEER_READY_FD');
  const control = raw.control === undefined ? undefined : resolve(cwd, raw.control);
  const controlProblem = control === undefined ? undefined : socketPathProblem(control);
  if (controlProblem) throw new ConfigError(`--control ${control} ${controlProblem}`);
  const name = raw.name ?? 'overseer';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new ConfigError(`--name must be 1-64 letters, digits, '.', '_' or '-' (it names the control socket), got \`${name}\``);
  }
  const restartDelayMs = integer('--restart-delay', raw.restartDelay, DEFAULTS.restartDelayMs, 1);
  const logFormat = oneOf<LogFormat>('--log-format', raw.logFormat, ['json', 'pretty'], process.stdout.isTTY ? 'pretty' : 'json');
  return Object.freeze({
    script: raw.script,
    scriptArgs: Object.freeze([...(raw.scriptArgs ?? [])]),
    cwd,
    listen: Object.freeze(listen),
    workers,
    waitReady: raw.waitReady ?? false,
    readyTimeoutMs: integer('--ready-timeout', raw.readyTimeout, DEFAULTS.readyTimeoutMs, 1),
    drainTimeoutMs: integer('--drain-timeout', raw.drainTimeout, DEFAULTS.drainTimeoutMs, 0),
    killTimeoutMs: integer('--kill-timeout', raw.killTimeout, DEFAULTS.killTimeoutMs, 0),
    closeSpreadMs: integer('--close-spread', raw.closeSpread, DEFAULTS.closeSpreadMs, 0),
    websocketClose: raw.websocketClose ?? true,
    watch: Object.freeze(watch.map((p) => resolve(cwd, p))),
    watchDebounceMs: integer('--watch-debounce', raw.watchDebounce, DEFAULTS.watchDebounceMs, 0),
    pidFile: raw.pidFile === undefined ? undefined : resolve(cwd, raw.pidFile),
    name,
    logLevel: oneOf<LogLevel>('--log-level', raw.logLevel, LOG_LEVELS, 'info'),
    logFormat,
    nodeArgs: nodeArgs(raw.nodeArg ?? []),
    restartDelayMs,
    restartDelayMaxMs: Math.max(restartDelayMs, integer('--restart-delay-max', raw.restartDelayMax, DEFAULTS.restartDelayMaxMs, 1)),
    restartResetMs: DEFAULTS.restartResetMs,
    control,
    exec,
    readyDelayMs: raw.readyDelay === undefined ? undefined : integer('--ready-delay', raw.readyDelay, 0, 0),
    metrics,
    ...resolveIdentity(raw.user, raw.group),
    ...parseHealthOptions(raw, exec),
  });
}
