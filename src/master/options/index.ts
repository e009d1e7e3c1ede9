/**
 * The options pipeline's entry, for the CLI: validation (defaults, per-field
 * checks, freeze) and the pre-flight check against the disk and node. Light:
 * it loads none of the master's running parts, and the pre-flight check's
 * modules (node:child_process, finding programs) only when it is called, so
 * refusing bad input does not load them.
 */
import type { MasterOptions } from './options.js';

export { type MasterOptions, type RawStartOptions, parseStartOptions } from './options.js';

/** preflight.ts's `preflight()`, loaded on first use. */
export async function preflight(options: MasterOptions): Promise<void> {
  return (await import('./preflight.js')).preflight(options);
}
