/**
 * Renders the systemd units for a master: a `.service` and, unless
 * `--no-socket`, a `.socket` holding the `--listen` addresses (with it,
 * `systemctl restart` refuses no connection: docs/operations.md). Pure: everything it needs is in `UnitSpec`, and what it writes
 * is escaped for systemd (systemd.syntax(7), systemd.service(5) "Command
 * lines"): `%` specifiers and `$` variables are doubled, and words with
 * spaces or quotes are double-quoted with C escapes.
 *
 * The service is `Type=notify` (systemd 252 and later; the master sends
 * READY=1/RELOADING=1/STOPPING=1 through systemd-notify, a child of the
 * master, hence `NotifyAccess=all`); reload runs `overseer upgrade`, which
 * waits for the outcome; stop runs `overseer stop`, which drains the workers
 * within `TimeoutStopSec` (then SIGTERM to the master alone: `KillMode=mixed`).
 */
import { ConfigError } from '../errors.js';
import { type ListenAddress, formatAddress } from '../ipc/address.js';

export interface UnitSpec {
  /** Unit name without suffix: `<name>.service`, `<name>.socket`. */
  readonly name: string;
  readonly description: string;
  /** Absolute paths of node and of bin/overseer.js. */
  readonly node: string;
  readonly bin: string;
  readonly cwd: string;
  /** Absolute, or a program name with `--exec`. */
  readonly script: string;
  /** `start` options as `--flag=value` words (paths absolute), without `--control`. */
  readonly options: readonly string[];
  readonly scriptArgs: readonly string[];
  /** `--control` as given (absolute); undefined: one in the unit's runtime directory. */
  readonly control: string | undefined;
  readonly listen: readonly ListenAddress[];
  readonly readyTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly killTimeoutMs: number;
  /** Also render a `.socket` unit holding every `--listen` address. */
  readonly socket: boolean;
  /** `User=` for the whole service (master and workers). */
  readonly unitUser: string | undefined;
  /** `--user`: the workers' user (the master stays root). */
  readonly workerUser: string | undefined;
  /** Written into the header comment. */
  readonly version: string;
}

export interface Units {
  /** The unit name, without suffix. */
  readonly name: string;
  readonly service: string;
  readonly socket: string | undefined;
}

/** Margin for the master's own work around the drain and kill deadlines, and around start-up. */
const STOP_MARGIN_S = 5;
const START_MARGIN_S = 10;

function noControlCharacters(what: string, text: string): void {
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new ConfigError(`${what} cannot hold control characters (newlines, tabs…), got ${JSON.stringify(text)}`);
}

/** A literal value in a setting that expands specifiers but is not split into words. */
export function escapeValue(text: string): string {
  noControlCharacters('a unit setting', text);
  return text.replace(/%/g, '%%');
}

/** One literal word of an Exec*= command line. */
export function escapeWord(word: string): string {
  noControlCharacters('an ExecStart= argument', word);
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/'/g, "\\'").replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (word === ';') return '\\;';
  return word === '' || /[\s"']/.test(word) ? `"${escaped}"` : escaped;
}

/** An Environment= assignment (quoted if needed; `$` is not expanded there). */
function environment(name: string, value: string): string {
  noControlCharacters(`Environment=${name}`, value);
  const text = `${name}=${value}`.replace(/%/g, '%%');
  return /[\s"'\\]/.test(text) ? `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : text;
}

/** The ListenStream= form of an address; systemd takes IPs, not host names, and cannot bind port 0 usefully. */
export function listenStream(address: ListenAddress): string {
  if (address.kind === 'unix') return escapeValue(address.path);
  const text = formatAddress(address);
  if (address.port === 0) throw new ConfigError(`the .socket unit needs fixed ports: --listen ${text} asks for any free port (or give --no-socket)`);
  if (address.host === undefined) return String(address.port); // [::] dual-stack, as overseer binds it
  if (!/^[0-9.]+$|:/.test(address.host)) throw new ConfigError(`the .socket unit needs IP addresses: systemd does not resolve host names, got --listen ${text} (or give --no-socket)`);
  return text;
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

export function renderUnits(spec: UnitSpec): Units {
  const runtimeDir = `overseer-${spec.name}`;
  const control = spec.control === undefined ? `--control=%t/${runtimeDir}/control.sock` : escapeWord(`--control=${spec.control}`);
  const words = (list: readonly string[]) => list.map(escapeWord).join(' ');
  // One option per line, joined by systemd's line continuation.
  const start = [words([spec.node, spec.bin, 'start', spec.script]), ...spec.options.map(escapeWord), control];
  if (spec.scriptArgs.length > 0) start.push(words(['--', ...spec.scriptArgs]));
  const reload = `${words([spec.node, spec.bin, 'upgrade'])} ${control}`;
  const stop = `${words([spec.node, spec.bin, 'stop'])} ${control}`;
  const stopSec = seconds(spec.drainTimeoutMs + spec.killTimeoutMs) + STOP_MARGIN_S;
  const startSec = seconds(2 * spec.readyTimeoutMs) + START_MARGIN_S;
  const socketUnit = `${spec.name}.socket`;
  const streams = spec.socket ? spec.listen.map(listenStream) : [];
  if (spec.socket && streams.length === 0) {
    throw new ConfigError('the .socket unit holds the --listen addresses: give at least one --listen, or --no-socket to let the master bind what the app asks for');
  }

  const identity = spec.unitUser !== undefined
    ? [`# Master and workers run as ${spec.unitUser}${spec.socket ? '; systemd binds the sockets, so ports below 1024 work' : ''}.`, `User=${escapeValue(spec.unitUser)}`]
    : spec.workerUser !== undefined
      ? [`# The master runs as root (it binds the sockets and switches users); the workers run as ${spec.workerUser} (--user).`]
      : ['# Master and workers run as root: add --user <name> to run the workers unprivileged', '# (the master stays root), or --unit-user <name> to run everything unprivileged.'];

  const service = [
    `# ${spec.name}.service — written by \`overseer systemd-unit\` (overseer ${spec.version}).`,
    '# Install it as /etc/systemd/system/' + `${spec.name}.service; see docs/operations.md ("systemd").`,
    '[Unit]',
    `Description=${escapeValue(spec.description)}`,
    'After=network.target',
    ...(spec.socket ? [`Requires=${socketUnit}`, `After=${socketUnit}`] : []),
    '',
    '[Service]',
    '# The master says READY=1 when the first generation is ready, RELOADING=1 and',
    '# READY=1 around every upgrade, STOPPING=1 on stop, and STATUS= lines, through',
    '# the systemd-notify program, a child of the master: hence NotifyAccess=all.',
    'Type=notify',
    'NotifyAccess=all',
    `WorkingDirectory=${escapeValue(spec.cwd)}`,
    '# As given, so a `current -> releases/N` symlink is followed at every upgrade.',
    `Environment=${environment('PWD', spec.cwd)}`,
    `RuntimeDirectory=${runtimeDir}`,
    '# Upgrades replace workers, never the master, so its PID (MAINPID) is stable',
    '# across every reload. Only `overseer upgrade --self` replaces the master: the',
    '# successor tells systemd its pid (MAINPID=) before the old master exits.',
    `ExecStart=${start.join(' \\\n    ')}`,
    '# `systemctl reload` runs `overseer upgrade`: it waits for the new generation and',
    '# fails (exit 1) when it is rejected; the old generation keeps serving either way.',
    '# systemd >= 253 also offers Type=notify-reload (with ReloadSignal=SIGHUP and no',
    '# ExecReload=), but a rejected upgrade would then still count as a good reload.',
    `ExecReload=${reload}`,
    '# Stop: `overseer stop` asks the master to drain the workers (--drain-timeout,',
    `# then SIGKILL --kill-timeout later: ${spec.drainTimeoutMs} + ${spec.killTimeoutMs} ms) and waits until it has exited.`,
    '# It goes through the control socket, not a signal: after `overseer upgrade --self`',
    '# the master is not systemd\'s child, and systemd < 253 cannot wait for such a',
    '# main process after SIGTERM (it would SIGKILL the unit at once). If anything is',
    '# left, SIGTERM to the master alone, and at TimeoutStopSec SIGKILL from systemd.',
    `ExecStop=${stop}`,
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${stopSec}`,
    '# Start waits for the first generation, and a reload may wait for a running upgrade',
    `# and then its own: twice --ready-timeout (${spec.readyTimeoutMs} ms), plus a margin.`,
    `TimeoutStartSec=${startSec}`,
    'Restart=on-failure',
    'RestartSec=1s',
    ...identity,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');

  const socket = !spec.socket ? undefined : [
    `# ${socketUnit} — written by \`overseer systemd-unit\` (overseer ${spec.version}).`,
    '# systemd binds and holds these sockets, even while the master is restarted; the',
    '# master takes them at start (LISTEN_FDS) instead of binding its --listen addresses.',
    '[Unit]',
    `Description=${escapeValue(spec.description)} (sockets)`,
    '',
    '[Socket]',
    ...streams.map((stream) => `ListenStream=${stream}`),
    `FileDescriptorName=${spec.name}`,
    '# Accept=no (the default): the service takes the listening sockets themselves.',
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');

  return { name: spec.name, service, socket };
}
