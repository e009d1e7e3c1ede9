/**
 * What each command does once its command line is read, whoever read it:
 * the fast path (main.ts) and commander (program.ts) both end here, so a
 * command runs one way. Each implementation is imported when it runs, so a
 * command loads only what it uses: the clients never load the master, and
 * `start` loads the master's running parts only after its options and its
 * script have been checked.
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

/** `start`, from its parsed values (keys as in START_OPTIONS); resolves with the exit code. */
export async function runStart(script: string, args: readonly string[], values: Readonly<Record<string, unknown>>): Promise<number> {
  // Bad input is refused before the rest of the master's modules are loaded:
  // the validation pipeline itself (options.js) first, without the
  // pre-flight checks' (preflight.js: node:child_process, finding programs).
  const [{ parseStartOptions }, { rawStartOptions }] = await Promise.all([import('../master/options/options.js'), import('./start-options.js')]);
  const options = parseStartOptions(rawStartOptions(script, args, values));
  // The script and --node-arg checked against the disk and node, still before
  // anything is created (no log line, control socket, PID file or socket).
  const { preflight } = await import('../master/options/preflight.js');
  await preflight(options);
  const { runStart: runMaster } = await import('../master/index.js');
  return runMaster(options);
}
