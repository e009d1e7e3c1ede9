/**
 * The command line. `run()` resolves with the exit code; it never exits the
 * process itself (only bin/ does).
 *
 * Exit codes: 0 success, 1 runtime failure (cannot listen, forced stop, a
 * rejected upgrade), 2 bad input (unknown option, invalid value, missing
 * script) or, for upgrade/status/stop, no master answering.
 *
 * Start-up cost: a plain command line of `upgrade`, `status`, `stop` or
 * `start` is read without commander (argv.ts, from the option tables
 * commander is declared from) and runs the same code as through commander
 * (commands.ts, start.ts); `--help` and `<command> --help` print the help
 * commander wrote at build time (help.ts). Anything else (other forms of
 * help, an unknown option, a missing value, `systemd-unit`) goes to
 * commander (program.ts), which prints its own help and errors. Each kind
 * of line imports only its own modules, and none loads the master, its
 * logger (pino, pino-pretty) or its watcher (chokidar) until `start` has
 * checked its options and script. test/integration/cli-lazy.test.ts holds
 * that; `npm run bench -- --phases startup` measures it.
 */
import { ConfigError, OverseerError } from '../errors.js';
import { stderr, stdout } from './output.js';

export async function run(argv: readonly string[]): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      const help = (await import('./help.js')).prebuiltHelp(argv, stdout);
      if (help !== undefined) {
        stdout.write(help);
        return 0;
      }
    }
    // Each kind of command line imports what it needs when it comes.
    if (argv[0] === 'start') {
      const start = (await import('./start-options.js')).parseStartArgv(argv);
      if (start) return await (await import('./start.js')).runStart(start.script, start.args, start.values);
    } else if ((await import('./client-options.js')).isClientCommand(argv[0])) {
      const { parseClientArgv, runClient } = await import('./commands.js');
      const client = parseClientArgv(argv);
      if (client) return await runClient(client);
    }
    const { runProgram } = await import('./program.js');
    return await runProgram(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`overseer: ${message}\n`);
    // Bad input, and "no master answers", are exit 2; failures at run time are 1.
    if (error instanceof ConfigError || (error instanceof OverseerError && error.code === 'ERR_NO_MASTER')) return 2;
    if (error instanceof OverseerError) return 1;
    if (error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
    return 1;
  }
}
