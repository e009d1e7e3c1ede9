/**
 * What `overseer start` does once its command line is read, whoever read
 * it (main.ts's fast path or commander, program.ts): one pipeline.
 *
 * Bad input is refused before the rest of the master's modules are loaded:
 * this module imports only the options pipeline's entry, so that graph
 * loads in one go when main.ts imports it; the pre-flight checks (loaded by
 * the entry when called) and the master follow only once the options are
 * valid.
 */
import { parseStartOptions, preflight } from '../master/options/index.js';
import { rawStartOptions } from './start-options.js';

/** `start`, from its parsed values (keys as in START_OPTIONS); resolves with the exit code. */
export async function runStart(script: string, args: readonly string[], values: Readonly<Record<string, unknown>>): Promise<number> {
  const options = parseStartOptions(rawStartOptions(script, args, values));
  // The script and --node-arg checked against the disk and node, still before
  // anything is created (no log line, control socket, PID file or socket).
  await preflight(options);
  const { runStart: runMaster } = await import('../master/index.js');
  return runMaster(options);
}
