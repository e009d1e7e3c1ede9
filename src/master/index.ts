/**
 * The master's entry for the CLI: what `overseer start` runs. The CLI
 * imports nothing else from src/master but the options pipeline
 * (options/index.ts), which it loads first, so that bad input is refused
 * before the master's modules (and its logging stack) are loaded.
 */
export { runStart } from './start.js';
