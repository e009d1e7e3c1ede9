/**
 * The options of `overseer start`, defined once: `start` runs with them, and
 * `systemd-unit` takes the same ones and writes them back into ExecStart=.
 * `START_FLAGS` names the flag of every raw option, so an option added to
 * `RawStartOptions` fails the build until it is listed here.
 */
import { type Command, Option } from './commander.js';
import { DEFAULTS, MAX_WORKERS } from '../defaults.js';
import type { RawStartOptions } from '../master/options/index.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function addStartOptions(command: Command): Command {
  return command
    .option('-l, --listen <address>', 'bind at start-up and hold for the master\'s life; repeatable: 3000, :3000, 127.0.0.1:3000, [::1]:3000, unix:/path.sock', collect, [])
    .option('-w, --workers <n|max>', `workers per generation, at most ${MAX_WORKERS} (max = CPU count)`, String(DEFAULTS.workers))
    .option('--wait-ready', 'a worker is ready only when the app calls ready() or process.send(\'ready\')', false)
    .option('--ready-timeout <ms>', 'a new worker not ready by then fails the upgrade', String(DEFAULTS.readyTimeoutMs))
    .option('--drain-timeout <ms>', 'a draining worker still alive then gets SIGTERM', String(DEFAULTS.drainTimeoutMs))
    .option('--kill-timeout <ms>', 'SIGKILL this long after that SIGTERM', String(DEFAULTS.killTimeoutMs))
    .option('--close-spread <ms>', 'draining connections are told to go (WebSocket close, HTTP Connection: close) at random moments over this window, capped at half the drain timeout', String(DEFAULTS.closeSpreadMs))
    .option('--no-websocket-close', 'leave WebSocket connections to the app\'s onShutdown hook instead of closing them with 1001 when draining')
    .option('--watch [paths...]', 'upgrade when the script (or these paths) change')
    .option('--watch-debounce <ms>', 'quiet time after the last change before upgrading', String(DEFAULTS.watchDebounceMs))
    .option('--pid-file <path>', 'write the master\'s pid here (atomically; removed on exit)')
    .option('--name <name>', 'name used in logs', 'overseer')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent', 'info')
    .addOption(new Option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)'))
    .option('--node-arg <arg>', 'one option for the workers\' node, value after =, repeatable (e.g. --node-arg=--max-old-space-size=512); checked with node at start', collect, [])
    .option('--restart-delay <ms>', 'first delay before replacing a crashed worker (doubles per crash)', String(DEFAULTS.restartDelayMs))
    .option('--restart-delay-max <ms>', 'largest delay before replacing a crashed worker', String(DEFAULTS.restartDelayMaxMs))
    .option('--control <path>', 'control socket for upgrade/status/stop (default: $XDG_RUNTIME_DIR/overseer/<name>.sock, else .overseer/<name>.sock beside the PID file or in the working directory)')
    .option('--user <name|uid>', 'run workers as this user (the master must be root)')
    .option('--group <name|gid>', 'run workers with this group (default: the user\'s primary group)')
    .option('--exec', '<script> is any program (not run by node): it gets the sockets at fds 3… with LISTEN_FDS/LISTEN_PID, like systemd socket activation', false)
    .option('--ready-delay <ms>', 'with --exec: a worker that has not written READY=1 to $OVERSEER_READY_FD is taken as ready this long after it started')
    .option('--hang-timeout <ms>', `a live worker whose event loop is blocked this long is replaced, then killed (default: ${DEFAULTS.hangTimeoutMs}; 0: off; not with --exec)`)
    .option('--hang-stack', 'a hung worker logs where its event loop is stuck (a watchdog thread, ~9 MB per worker)', false)
    .option('--max-memory <size>', 'a worker whose RSS stays above this (e.g. 512M, 1G) is replaced, then drained, one at a time (Linux)')
    .option('--metrics <address>', 'serve Prometheus metrics at http://<address>/metrics, on a listener of the master\'s own (e.g. 127.0.0.1:9464; off by default)')
    .option('--rollback-window <ms>', 'after an upgrade, keep the old generation on standby this long and switch back to it if a new worker dies or hangs');
}

type StartFlagged = Exclude<keyof RawStartOptions, 'script' | 'scriptArgs' | 'cwd'>;

/** The flag of each raw option (commander's attribute name is the key). */
export const START_FLAGS = {
  listen: '--listen',
  workers: '--workers',
  waitReady: '--wait-ready',
  readyTimeout: '--ready-timeout',
  drainTimeout: '--drain-timeout',
  killTimeout: '--kill-timeout',
  closeSpread: '--close-spread',
  websocketClose: '--no-websocket-close',
  watch: '--watch',
  watchDebounce: '--watch-debounce',
  pidFile: '--pid-file',
  name: '--name',
  logLevel: '--log-level',
  logFormat: '--log-format',
  nodeArg: '--node-arg',
  restartDelay: '--restart-delay',
  restartDelayMax: '--restart-delay-max',
  control: '--control',
  user: '--user',
  group: '--group',
  exec: '--exec',
  readyDelay: '--ready-delay',
  hangTimeout: '--hang-timeout',
  hangStack: '--hang-stack',
  maxMemory: '--max-memory',
  rollbackWindow: '--rollback-window',
  metrics: '--metrics',
} as const satisfies Record<StartFlagged, string>;

/**
 * commander's values → the raw options of the validation pipeline. With
 * `given`, only options given on the command line are kept (defaults are left
 * to the pipeline).
 */
export function rawStartOptions(script: string, args: readonly string[], command: Command, given = false): RawStartOptions {
  const opts = command.opts();
  const raw: Record<string, unknown> = { script, scriptArgs: args };
  for (const key of Object.keys(START_FLAGS)) {
    if (given && command.getOptionValueSource(key) !== 'cli') continue;
    raw[key] = opts[key];
  }
  return raw as RawStartOptions;
}

/** Raw options back into `start` arguments, `--flag=value` (a value may start with `-`). */
export function startArgv(raw: RawStartOptions): string[] {
  const argv: string[] = [];
  for (const [key, flag] of Object.entries(START_FLAGS) as Array<[StartFlagged, string]>) {
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
