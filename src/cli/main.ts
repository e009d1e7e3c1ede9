/**
 * The command line. `run()` parses argv with commander and resolves with the
 * exit code; it never exits the process itself (only bin/ does).
 *
 * Exit codes: 0 success, 1 runtime failure (cannot listen, forced stop),
 * 2 bad input (unknown option, invalid value, missing script).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, OverseerError } from '../errors.js';
import { DEFAULTS } from '../master/options.js';
import { runStart } from './start.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function program(result: { code: number }): Command {
  const root = new Command('overseer')
    .description('Zero-downtime supervisor for Node.js network servers')
    .version(version())
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`overseer: ${text.replace(/^error: /, '')}`) })
    .showSuggestionAfterError();

  root
    .command('start')
    .description('run <script> as supervised workers that share the master\'s listening sockets')
    .argument('<script>', 'the app to run (node:http, express, fastify, koa, net…)')
    .argument('[args...]', 'arguments for the app (after --)')
    .option('-l, --listen <address>', 'bind at start-up and hold for the master\'s life; repeatable: 3000, :3000, 127.0.0.1:3000, [::1]:3000, unix:/path.sock', collect, [])
    .option('-w, --workers <n|max>', 'workers per generation (max = CPU count)', String(DEFAULTS.workers))
    .option('--wait-ready', 'a worker is ready only when the app calls ready() or process.send(\'ready\')', false)
    .option('--ready-timeout <ms>', 'a new worker not ready by then fails the upgrade', String(DEFAULTS.readyTimeoutMs))
    .option('--drain-timeout <ms>', 'a draining worker still alive then gets SIGTERM', String(DEFAULTS.drainTimeoutMs))
    .option('--kill-timeout <ms>', 'SIGKILL this long after that SIGTERM', String(DEFAULTS.killTimeoutMs))
    .option('--watch [paths...]', 'upgrade when the script (or these paths) change')
    .option('--watch-debounce <ms>', 'quiet time after the last change before upgrading', String(DEFAULTS.watchDebounceMs))
    .option('--pid-file <path>', 'write the master\'s pid here (atomically; removed on exit)')
    .option('--name <name>', 'name used in logs', 'overseer')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent', 'info')
    .addOption(new Option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)'))
    .option('--node-arg <arg>', 'argument for the workers\' node, repeatable (e.g. --node-arg=--max-old-space-size=512)', collect, [])
    .option('--restart-delay <ms>', 'first delay before replacing a crashed worker (doubles per crash)', String(DEFAULTS.restartDelayMs))
    .option('--restart-delay-max <ms>', 'largest delay before replacing a crashed worker', String(DEFAULTS.restartDelayMaxMs))
    .option('--control <path>', 'control socket for upgrade/status/stop (default: $XDG_RUNTIME_DIR/overseer/<name>.sock, else .overseer/<name>.sock beside the PID file or in the working directory)')
    .option('--user <name|uid>', 'run workers as this user (the master must be root)')
    .option('--group <name|gid>', 'run workers with this group (default: the user\'s primary group)')
    .option('--exec', '<script> is any program (not run by node): it gets the sockets at fds 3… with LISTEN_FDS/LISTEN_PID, like systemd socket activation', false)
    .option('--ready-delay <ms>', 'with --exec: a worker that has not written READY=1 to $OVERSEER_READY_FD is taken as ready this long after it started')
    .action(async (script: string, args: string[], opts: Record<string, unknown>) => {
      result.code = await runStart({
        script,
        scriptArgs: args,
        listen: opts.listen as string[],
        workers: opts.workers as string,
        waitReady: opts.waitReady as boolean,
        readyTimeout: opts.readyTimeout as string,
        drainTimeout: opts.drainTimeout as string,
        killTimeout: opts.killTimeout as string,
        watch: opts.watch as boolean | string[] | undefined,
        watchDebounce: opts.watchDebounce as string,
        pidFile: opts.pidFile as string | undefined,
        name: opts.name as string,
        logLevel: opts.logLevel as string,
        logFormat: opts.logFormat as string | undefined,
        nodeArg: opts.nodeArg as string[],
        restartDelay: opts.restartDelay as string,
        restartDelayMax: opts.restartDelayMax as string,
        control: opts.control as string | undefined,
        user: opts.user as string | undefined,
        group: opts.group as string | undefined,
        exec: opts.exec as boolean,
        readyDelay: opts.readyDelay as string | undefined,
      });
    });
  return root;
}

export async function run(argv: readonly string[]): Promise<number> {
  const result = { code: 0 };
  try {
    await program(result).parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; its message is already printed.
      return error.exitCode === 0 ? 0 : 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`overseer: ${message}\n`);
    if (error instanceof ConfigError) return 2;
    if (error instanceof OverseerError) return 1;
    if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
