/**
 * Phase 4, footprint: resident memory and open file descriptors of the
 * process that stays (overseer's master, PM2's daemon), idle and after many
 * upgrades.
 *
 * Contracts:
 * - "Idle" is read once the contender serves v0 (one request answered, no
 *   load). "After" is read once the last of `upgrades` back-to-back upgrades
 *   is done (new version serving, old processes gone), with no load.
 * - Figures come from /proc/<pid>/status (VmRSS) and /proc/<pid>/fd.
 * - Each reading is taken twice: at once, and "settled", `settleMs` later
 *   with nothing happening in between. The first shows what the process
 *   holds right after its work; the second what it keeps at rest. The wait
 *   is the measurement, not a guess at an event: V8's memory reducer first
 *   runs 8 s after a Node process starts (and after a busy spell), and only
 *   then gives back the young generation's pages and the old space left over
 *   from start-up (2.5 MiB of an idle master on Node 20). Both contenders
 *   get the same wait.
 * - An upgrade the supervisor reports as failed is listed, not counted as done.
 */
import { servedVersion, stopContender, UpgradeFailed } from './contenders.mjs';
import { fdCount, rssKb } from './procs.mjs';

/** How long "settled" waits: V8's memory reducer (8 s) and its collections. */
export const SETTLE_MS = 12_000;

/**
 * @param {{ contender: any, upgrades: number, log: (l: string) => void, settleMs?: number }} options
 */
export async function measureFootprint({ contender, upgrades, log, settleMs = SETTLE_MS }) {
  let error = null;
  let idle = null;
  let idleSettled = null;
  let after = null;
  let afterSettled = null;
  let done = 0;
  /** @type {string[]} */
  const failedUpgrades = [];
  const read = () => {
    const pid = contender.supervisorPid();
    return pid ? { rssKb: rssKb(pid), fds: fdCount(pid) } : null;
  };
  try {
    await contender.start();
    await servedVersion(contender.url);
    idle = read();
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    idleSettled = read();
    let last = 'v0';
    for (let i = 1; i <= upgrades; i++) {
      try {
        await contender.deploy(`v${i}`);
        done++;
        last = `v${i}`;
      } catch (err) {
        if (!(err instanceof UpgradeFailed)) throw err;
        failedUpgrades.push(err.message);
      }
    }
    const version = await servedVersion(contender.url);
    if (version !== last) throw new Error(`after ${upgrades} upgrades ${contender.url} answers ${version}, not ${last}`);
    after = read();
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    afterSettled = read();
  } catch (err) {
    error = err.message;
    log(`  ${contender.label}: ${err.message}`);
  } finally {
    await stopContender(contender, log);
  }
  return { id: contender.id, label: contender.label, upgrades: done, failedUpgrades, error, idle, idleSettled, after, afterSettled, settleMs };
}
