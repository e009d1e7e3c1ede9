/**
 * What `overseer start` does once its command line is read, whoever read
 * it (main.ts's fast path or commander, program.ts): one pipeline.
 *
 * Bad input is refused before the rest of the master's modules are loaded:
 * this module imports only the validation pipeline (options.js), so its
 * graph loads in one go when main.ts imports it; the pre-flight checks
 * (preflight.js: node:child_process, finding programs) and the master
 * follow only once the options are valid.
 */
import { parseStartOptions } from '../master/options/options.js';
import { rawStartOptions } from './start-options.js';

/** `start`, from its parsed values (keys as in START_OPTIONS); resolves with the exit code. */
export async function runStart(script: string, args: readonly string[], values: Readonly<Record<string, unknown>>): Promise<number> {
  const options = parseStartOptions(rawStartOptions(script, args, values));
  // The script and --node-arg checked against the disk and node, still before
  // anything is created (no log line, control socket, PID file or socket).
  const { preflight } = await import('../master/options/preflight.js');
  await preflight(options);
  const { runStart: runMaster } = await import('../master/index.js');
  return runMaster(options);
}
