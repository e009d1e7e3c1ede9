/**
 * What a client command (upgrade, status, stop) does once its command line
 * is read, whoever read it: the fast path (main.ts) and commander
 * (program.ts) both end here, so a command runs one way (`start`: start.ts).
 * Each implementation is imported when it runs, so a command loads only what
 * it uses; the clients never load the master.
 */
import type { ClientCommand, ClientOptions } from './client-options.js';

/** upgrade, status or stop; resolves with the exit code. */
export async function runClient(command: ClientCommand, options: ClientOptions): Promise<number> {
  switch (command) {
    case 'upgrade':
      return (await import('./upgrade.js')).runUpgrade(options);
    case 'status':
      return (await import('./status.js')).runStatus(options);
    case 'stop':
      return (await import('./stop.js')).runStop(options);
    default: {
      const unknown: never = command;
      throw new Error(`no client command ${String(unknown)}`);
    }
  }
}
