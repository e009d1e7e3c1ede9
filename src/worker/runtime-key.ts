/**
 * Where the preload publishes the worker runtime for `overseer/worker`. A
 * registry symbol, so every copy of the API module (CommonJS or ESM, the
 * app's node_modules or ours) finds the same runtime.
 */
export const RUNTIME_KEY = Symbol.for('overseer.worker.runtime');
