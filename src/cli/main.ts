/**
 * The command line. `run()` parses argv with commander and resolves with the
 * exit code; it never exits the process itself (only bin/ does).
 *
 * Exit codes: 0 success, 1 runtime failure (cannot listen, forced stop, a
 * rejected upgrade), 2 bad input (unknown option, invalid value, missing
 * script) or, for upgrade/status/stop, no master answering.
 *
 * Start-up cost: this file imports only what parsing needs (commander and
 * the option declarations). Each command's implementation is imported in its
 * action, so `--version`, `--help`, bad input and the client commands
 * (upgrade, status, stop) never load the master, its logger (pino,
 * pino-pretty) or its watcher (chokidar). test/integration/cli-lazy.test.ts
 * holds that; `npm run bench -- --phases startup` measures it.
 */
import { Command, CommanderError } from './commander.js';
import { ConfigError, OverseerError } from '../errors.js';
import { overseerVersion } from '../version.js';
import { type ClientOptions, addClientOptions } from './client-options.js';
import { addStartOptions, rawStartOptions } from './start-options.js';

function program(result: { code: number }): Command {
  const root = new Command('overseer')
    .description('Zero-downtime supervisor for Node.js network servers')
    .version(overseerVersion())
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`overseer: ${text.replace(/^error: /, '')}`) })
    .showSuggestionAfterError();

  const start = root
    .command('start')
    .description('run <script> as supervised workers that share the master\'s listening sockets')
    .argument('<script>', 'the app to run (node:http, express, fastify, koa, net…)')
    .argument('[args...]', 'arguments for the app (after --)');
  addStartOptions(start).action(async (script: string, args: string[], _opts: unknown, command: Command) => {
    // Bad input is refused before the master's modules are loaded.
    const { parseStartOptions, preflight } = await import('../master/options/index.js');
    const options = parseStartOptions(rawStartOptions(script, args, command));
    // The script and --node-arg checked against the disk and node, still before
    // anything is created (no log line, control socket, PID file or socket).
    await preflight(options);
    const { runStart } = await import('../master/index.js');
    result.code = await runStart(options);
  });
  const unit = root
    .command('systemd-unit')
    .description('print a systemd service that runs `overseer start` with these options, and a .socket unit holding its --listen addresses')
    .argument('<script>', 'the app to run, as for start')
    .argument('[args...]', 'arguments for the app (after --)')
    .option('--socket', 'also a .socket unit (the default): systemd holds the --listen sockets, so `systemctl restart` loses no connection')
    .option('--no-socket', 'no .socket unit: the master binds the --listen addresses itself, and refuses connections while it restarts')
    .option('--description <text>', 'Description= of the units')
    .option('--unit-user <name>', 'User= of the service: the master and workers run as this user (instead of --user)')
    .option('--out-dir <dir>', 'write <name>.service and <name>.socket there instead of printing them');
  addStartOptions(unit).action(async (script: string, args: string[], opts: Record<string, unknown>, command: Command) => {
    const { runSystemdUnit } = await import('./systemd-unit.js');
    result.code = runSystemdUnit(rawStartOptions(script, args, command, true), {
      socket: opts.socket !== false,
      description: opts.description as string | undefined,
      unitUser: opts.unitUser as string | undefined,
      outDir: opts.outDir as string | undefined,
    });
  });
  addClientOptions(
    root.command('upgrade').description('upgrade the running master and wait for the outcome: exit 0 live, 1 rejected, 2 no master'),
    'give up waiting after this long (exit 1; the upgrade may still complete)',
  )
    .option('--self', 'replace the master itself: a successor master from the overseer on disk now takes over the sockets, with no failed request')
    .option('--node <path>', 'with --self: the Node.js binary the successor runs on (default: the one the master runs on)')
    .action(async (opts: ClientOptions & { self?: boolean; node?: string }) => {
      if (opts.self) {
        const { runSelfUpgrade } = await import('./upgrade-self.js');
        result.code = await runSelfUpgrade(opts);
        return;
      }
      if (opts.node !== undefined) throw new ConfigError(`--node ${opts.node}: only with --self (the Node.js binary of a successor master)`);
      const { runUpgrade } = await import('./upgrade.js');
      result.code = await runUpgrade(opts);
    });
  addClientOptions(
    root.command('status').description('show the running master: pid, uptime, listeners, workers, last upgrade'),
    'give up waiting for an answer after this long (default 10000)',
  ).action(async (opts: ClientOptions) => {
    const { runStatus } = await import('./status.js');
    result.code = await runStatus(opts);
  });
  addClientOptions(
    root.command('stop').description('stop the running master gracefully and wait until it has exited'),
    'give up waiting after this long (exit 1)',
  ).action(async (opts: ClientOptions) => {
    const { runStop } = await import('./stop.js');
    result.code = await runStop(opts);
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
    // Bad input, and "no master answers", are exit 2; failures at run time are 1.
    if (error instanceof ConfigError || (error instanceof OverseerError && error.code === 'ERR_NO_MASTER')) return 2;
    if (error instanceof OverseerError) return 1;
    if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
