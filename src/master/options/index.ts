/**
 * The options pipeline's entry, for the CLI: validation (defaults, per-field
 * checks, freeze) and the pre-flight check against the disk and node. Light:
 * it loads none of the master's running parts.
 */
export { type MasterOptions, type RawStartOptions, parseStartOptions } from './options.js';
export { preflight } from './preflight.js';
