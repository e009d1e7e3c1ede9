/**
 * The defaults of `overseer start`'s options, apart from the validation
 * pipeline (options.ts) so the CLI can show them in `--help` without loading
 * the pipeline and what it imports.
 */
export const DEFAULTS = Object.freeze({
  workers: 1,
  readyTimeoutMs: 30_000,
  drainTimeoutMs: 30_000,
  killTimeoutMs: 5_000,
  closeSpreadMs: 2_000,
  watchDebounceMs: 300,
  restartDelayMs: 100,
  restartDelayMaxMs: 15_000,
  restartResetMs: 30_000,
  hangTimeoutMs: 30_000,
});

/**
 * The most workers per generation (`--workers max` is capped to it): every
 * worker is a whole Node process (~40 MB), and during an upgrade two
 * generations run side by side (docs/decisions.md).
 */
export const MAX_WORKERS = 1024;
