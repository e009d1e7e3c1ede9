/**
 * The options of `overseer start`, defined once, as a table: `start` runs
 * with them, `systemd-unit` takes the same ones and writes them back into
 * ExecStart=, commander declares them from it (program.ts) and the fast path
 * reads a plain command line with it (argv.ts). The key of each row is the
 * raw option's name (commander's attribute name for the flag), so an option
 * added to `RawStartOptions` fails the build until it has a row here.
 */
import { type OptionSpec, parsePlain } from './argv.js';
import { DEFAULTS, MAX_WORKERS } from '../defaults.js';
import type { RawStartOptions } from '../master/options/index.js';

type StartFlagged = Exclude<keyof RawStartOptions, 'script' | 'scriptArgs' | 'cwd'>;

/** Every option of `start`, in the order `start --help` lists them. */
export const START_OPTIONS = {
  listen: { flag: '--listen', short: '-l', value: '<address>', repeat: true, help: 'bind at start-up and hold for the master\'s life; repeatable: 3000, :3000, 127.0.0.1:3000, [::1]:3000, unix:/path.sock' },
  workers: { flag: '--workers', short: '-w', value: '<n|max>', help: `workers per generation, at most ${MAX_WORKERS} (max = CPU count)`, default: String(DEFAULTS.workers) },
  waitReady: { flag: '--wait-ready', help: 'a worker is ready only when the app calls ready() or process.send(\'ready\')', default: false },
  readyTimeout: { flag: '--ready-timeout', value: '<ms>', help: 'a new worker not ready by then fails the upgrade', default: String(DEFAULTS.readyTimeoutMs) },
  drainTimeout: { flag: '--drain-timeout', value: '<ms>', help: 'a draining worker still alive then gets SIGTERM', default: String(DEFAULTS.drainTimeoutMs) },
  killTimeout: { flag: '--kill-timeout', value: '<ms>', help: 'SIGKILL this long after that SIGTERM', default: String(DEFAULTS.killTimeoutMs) },
  closeSpread: { flag: '--close-spread', value: '<ms>', help: 'draining connections are told to go (WebSocket close, HTTP Connection: close) at random moments over this window, capped at half the drain timeout', default: String(DEFAULTS.closeSpreadMs) },
  websocketClose: { flag: '--no-websocket-close', help: 'leave WebSocket connections to the app\'s onShutdown hook instead of closing them with 1001 when draining' },
  watch: { flag: '--watch', value: '[paths...]', help: 'upgrade when the script (or these paths) change' },
  watchDebounce: { flag: '--watch-debounce', value: '<ms>', help: 'quiet time after the last change before upgrading', default: String(DEFAULTS.watchDebounceMs) },
  pidFile: { flag: '--pid-file', value: '<path>', help: 'write the master\'s pid here (atomically; removed on exit)' },
  name: { flag: '--name', value: '<name>', help: 'name used in logs', default: 'overseer' },
  logLevel: { flag: '--log-level', value: '<level>', help: 'trace, debug, info, warn, error, fatal or silent', default: 'info' },
  logFormat: { flag: '--log-format', value: '<format>', help: 'json or pretty (default: pretty on a terminal, json otherwise)' },
  nodeArg: { flag: '--node-arg', value: '<arg>', repeat: true, help: 'one option for the workers\' node, value after =, repeatable (e.g. --node-arg=--max-old-space-size=512); checked with node at start' },
  restartDelay: { flag: '--restart-delay', value: '<ms>', help: 'first delay before replacing a crashed worker (doubles per crash)', default: String(DEFAULTS.restartDelayMs) },
  restartDelayMax: { flag: '--restart-delay-max', value: '<ms>', help: 'largest delay before replacing a crashed worker', default: String(DEFAULTS.restartDelayMaxMs) },
  control: { flag: '--control', value: '<path>', help: 'control socket for upgrade/status/stop (default: $XDG_RUNTIME_DIR/overseer/<name>.sock, else .overseer/<name>.sock beside the PID file or in the working directory)' },
  user: { flag: '--user', value: '<name|uid>', help: 'run workers as this user (the master must be root)' },
  group: { flag: '--group', value: '<name|gid>', help: 'run workers with this group (default: the user\'s primary group)' },
  exec: { flag: '--exec', help: '<script> is any program (not run by node): it gets the sockets at fds 3… with LISTEN_FDS/LISTEN_PID, like systemd socket activation', default: false },
  readyDelay: { flag: '--ready-delay', value: '<ms>', help: 'with --exec: a worker that has not written READY=1 to $OVERSEER_READY_FD is taken as ready this long after it started' },
  hangTimeout: { flag: '--hang-timeout', value: '<ms>', help: `a live worker whose event loop is blocked this long is replaced, then killed (default: ${DEFAULTS.hangTimeoutMs}; 0: off; not with --exec)` },
  hangStack: { flag: '--hang-stack', help: 'a hung worker logs where its event loop is stuck (a watchdog thread, ~9 MB per worker)', default: false },
  maxMemory: { flag: '--max-memory', value: '<size>', help: 'a worker whose RSS stays above this (e.g. 512M, 1G) is replaced, then drained, one at a time (Linux)' },
  metrics: { flag: '--metrics', value: '<address>', help: 'serve Prometheus metrics at http://<address>/metrics, on a listener of the master\'s own (e.g. 127.0.0.1:9464; off by default)' },
  rollbackWindow: { flag: '--rollback-window', value: '<ms>', help: 'after an upgrade, keep the old generation on standby this long and switch back to it if a new worker dies or hangs' },
} as const satisfies Record<StartFlagged, OptionSpec>;

/**
 * A `start` command line read without commander, or undefined when it is
 * not plain (argv.ts) or names no script: commander then reads it (and says
 * which argument is missing).
 */
export function parseStartArgv(argv: readonly string[]): { script: string; args: string[]; values: Record<string, unknown> } | undefined {
  if (argv[0] !== 'start') return undefined;
  const plain = parsePlain(argv.slice(1), START_OPTIONS, true);
  if (!plain || plain.positionals.length === 0) return undefined;
  const [script, ...args] = plain.positionals as [string, ...string[]];
  return { script, args, values: plain.values };
}

/**
 * Parsed values (commander's, or the fast path's: keys are the table's) →
 * the raw options of the validation pipeline. With `given`, only the options
 * it says were given on the command line are kept (defaults are left to the
 * pipeline).
 */
export function rawStartOptions(script: string, args: readonly string[], values: Readonly<Record<string, unknown>>, given?: (key: string) => boolean): RawStartOptions {
  const raw: Record<string, unknown> = { script, scriptArgs: args };
  for (const key of Object.keys(START_OPTIONS)) {
    if (given && !given(key)) continue;
    raw[key] = values[key];
  }
  return raw as RawStartOptions;
}

/** Raw options back into `start` arguments, `--flag=value` (a value may start with `-`). */
export function startArgv(raw: RawStartOptions): string[] {
  const argv: string[] = [];
  for (const [key, { flag }] of Object.entries(START_OPTIONS) as Array<[StartFlagged, OptionSpec]>) {
    const value = raw[key];
    if (flag.startsWith('--no-')) {
      if (value === false) argv.push(flag); // a negated flag is written only to turn its default off
      continue;
    }
    if (value === undefined || value === false) continue;
    if (value === true) argv.push(flag);
    else if (Array.isArray(value)) argv.push(...value.map((v: unknown) => `${flag}=${String(v)}`));
    else argv.push(`${flag}=${String(value)}`);
  }
  return argv;
}
