/**
 * The commander program: every command, its help and its error messages.
 * main.ts hands it every command line the fast path declines (help, bad
 * input commander reports, anything not plain) and the commands that have
 * no fast path (systemd-unit). The options are declared from the same tables
 * the fast path reads (client-options.ts, start-options.ts).
 *
 * Each command's implementation is imported in its action, so help and bad
 * input never load the master, its logger (pino, pino-pretty) or its
 * watcher (chokidar).
 */
import { Command, CommanderError } from './commander.js';
import type { OptionSpec } from './argv.js';
import { overseerVersion } from '../version.js';
import { CLIENT_COMMANDS, type ClientCall, type ClientCommand } from './client-options.js';
import { START_OPTIONS, rawStartOptions } from './start-options.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** One row of an option table, declared to commander. */
function declare(command: Command, spec: OptionSpec): Command {
  const flags = `${spec.short ? `${spec.short}, ` : ''}${spec.flag}${spec.value ? ` ${spec.value}` : ''}`;
  if (spec.repeat) return command.option(flags, spec.help, collect, []);
  if (spec.default !== undefined) return command.option(flags, spec.help, spec.default);
  return command.option(flags, spec.help);
}

export function declareAll(command: Command, table: Readonly<Record<string, OptionSpec>>): Command {
  for (const spec of Object.values(table)) declare(command, spec);
  return command;
}

/** The program; each action sets `result.code`. Exported for the tests that hold the fast path to it. */
export function buildProgram(result: { code: number }): Command {
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
  declareAll(start, START_OPTIONS).action(async (script: string, args: string[], opts: Record<string, unknown>) => {
    const { runStart } = await import('./start.js');
    result.code = await runStart(script, args, opts);
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
  declareAll(unit, START_OPTIONS).action(async (script: string, args: string[], opts: Record<string, unknown>, command: Command) => {
    const { runSystemdUnit } = await import('./systemd-unit.js');
    result.code = runSystemdUnit(rawStartOptions(script, args, opts, (key) => command.getOptionValueSource(key) === 'cli'), {
      socket: opts.socket !== false,
      description: opts.description as string | undefined,
      unitUser: opts.unitUser as string | undefined,
      outDir: opts.outDir as string | undefined,
    });
  });
  for (const [name, { description, options }] of Object.entries(CLIENT_COMMANDS) as Array<[ClientCommand, (typeof CLIENT_COMMANDS)[ClientCommand]]>) {
    declareAll(root.command(name).description(description), options).action(async (opts: Record<string, unknown>) => {
      const { runClient } = await import('./commands.js');
      // commander's values, keyed and typed as the table they were declared from.
      result.code = await runClient({ command: name, options: opts } as ClientCall);
    });
  }
  return root;
}

/**
 * Runs `argv` through commander; resolves with the exit code. Other errors
 * than commander's (a command that failed) are the caller's to report.
 */
export async function runProgram(argv: readonly string[]): Promise<number> {
  const result = { code: 0 };
  try {
    await buildProgram(result).parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (error) {
    // Help and version are "errors" to commander; its message is already printed.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}
