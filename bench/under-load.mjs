/**
 * The frame every measurement under load shares: start the contender, start
 * the load client on it, run the measurement's `body`; then, whatever
 * happened (the body may throw: its message becomes `error` and is logged),
 * stop the load (for its report, which accounts for every request) and the
 * contender, in that order.
 */
import { stopContender } from './contenders.mjs';
import { startLoad } from './load.mjs';

/**
 * @param {{ contender: any, load: Parameters<typeof startLoad>[1], log: (line: string) => void }} options
 * @param {(load: Awaited<ReturnType<typeof startLoad>>) => Promise<void>} body
 * @returns {Promise<{ load: Awaited<ReturnType<typeof startLoad>> | null, report: any, error: string | null }>}
 */
export async function underLoad({ contender, load: loadOptions, log }, body) {
  /** @type {Awaited<ReturnType<typeof startLoad>> | null} */
  let load = null;
  let report = null;
  /** @type {string | null} */
  let error = null;
  try {
    await contender.start();
    load = await startLoad(contender.url, loadOptions);
    await body(load);
  } catch (err) {
    error = /** @type {Error} */ (err).message;
    log(`  ${contender.label}: ${error}`);
  } finally {
    if (load) {
      try { report = await load.stop(); } catch (err) { error ??= /** @type {Error} */ (err).message; }
    }
    await stopContender(contender, log);
  }
  return { load, report, error };
}
