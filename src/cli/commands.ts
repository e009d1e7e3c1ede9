/**
 * What a client command (upgrade, status, stop) does once its command line
 * is read, whoever read it: the fast path (main.ts) and commander
 * (program.ts) both end here, so a command runs one way (`start`: start.ts).
 * Each implementation is imported when it runs, so a command loads only what
 * it uses; the clients never load the master.
 */
import { parsePlain } from './argv.js';
import { CLIENT_COMMANDS, type ClientCall, isClientCommand } from './client-options.js';

/**
 * A client command line (`status --json`) read without commander, or
 * undefined when it is not plain (argv.ts): commander then reads it.
 */
export function parseClientArgv(argv: readonly string[]): ClientCall | undefined {
  const [command, ...rest] = argv;
  if (!isClientCommand(command)) return undefined;
  const plain = parsePlain(rest, CLIENT_COMMANDS[command].options, false);
  // The values are typed by the table they were read with (client-options.ts).
  return plain && ({ command, options: plain.values } as ClientCall);
}

/** upgrade, status or stop; resolves with the exit code. */
export async function runClient(call: ClientCall): Promise<number> {
  switch (call.command) {
    case 'upgrade':
      return (await import('./upgrade.js')).runUpgrade(call.options);
    case 'status':
      return (await import('./status.js')).runStatus(call.options);
    case 'stop':
      return (await import('./stop.js')).runStop(call.options);
    default: {
      const unknown: never = call;
      throw new Error(`no client command ${String((unknown as ClientCall).command)}`);
    }
  }
}
