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
 * - An upgrade the supervisor reports as failed is listed, not counted as done.
 */
import { servedVersion, stopContender, UpgradeFailed } from './contenders.mjs';
import { fdCount, rssKb } from './procs.mjs';

/**
 * @param {{ contender: any, upgrades: number, log: (l: string) => void }} options
 */
export async function measureFootprint({ contender, upgrades, log }) {
  let error = null;
  let idle = null;
  let after = null;
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
  } catch (err) {
    error = err.message;
    log(`  ${contender.label}: ${err.message}`);
  } finally {
    await stopContender(contender, log);
  }
  return { id: contender.id, label: contender.label, upgrades: done, failedUpgrades, error, idle, after };
}
