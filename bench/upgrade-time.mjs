/**
 * Phase 3, upgrade time: from the trigger (signal, `pm2 reload`, kill) to the
 * new version serving all traffic and the old process gone.
 *
 * Contracts:
 * - A light load runs throughout (4 keep-alive + 1 new-connection loops), so
 *   "serving all traffic" is observed, not assumed: for upgrade i,
 *   complete = max(done, first answer of v_i, last answer of v_{i-1}) − trigger,
 *   where done is the contender's own end (old pids gone) and answers are
 *   timed by the load client, mapped onto the bench clock.
 *   `firstNew` = first answer of v_i − trigger.
 * - Upgrades run back to back: the next one starts once v_i has answered 20
 *   requests. Failed requests are counted too (for information). An upgrade
 *   the supervisor reports as failed is listed in `failedUpgrades` and not
 *   timed; the run goes on.
 */
import { UpgradeFailed } from './contenders.mjs';
import { underLoad } from './under-load.mjs';
import { median } from './procs.mjs';

/**
 * @param {{ contender: any, upgrades: number, log: (l: string) => void }} options
 */
export async function measureUpgradeTime({ contender, upgrades, log }) {
  /** @type {Array<{ version: number, triggerMs: number, doneMs: number, phases?: Record<string, number | null> }>} */
  const timings = [];
  /** @type {string[]} */
  const failedUpgrades = [];
  const { load, report, error } = await underLoad({ contender, load: { keepalive: 4, fresh: 1, durationMs: 300_000, timeoutMs: 10_000 }, log }, async (load) => {
    await load.waitForVersion('v0', { minCount: 20 });
    for (let i = 1; i <= upgrades; i++) {
      try {
        timings.push({ version: i, ...(await contender.deploy(`v${i}`)) });
      } catch (err) {
        if (!(err instanceof UpgradeFailed)) throw err;
        failedUpgrades.push(err.message);
        log(`  ${contender.label}: upgrade to v${i} failed, old version still serving: ${err.message}`);
        continue;
      }
      await load.waitForVersion(`v${i}`, { minCount: 20 });
    }
  });
  const complete = [];
  const firstNew = [];
  if (report && load) {
    timings.forEach(({ version, triggerMs, doneMs }, index) => {
      const spanNew = report.versionSpans[`v${version}`];
      const spanOld = report.versionSpans[`v${index === 0 ? 0 : timings[index - 1].version}`];
      if (!spanNew) return;
      const firstNewMs = load.toBench(spanNew.firstMs);
      const lastOldMs = spanOld ? load.toBench(spanOld.lastMs) : triggerMs;
      complete.push(Math.max(doneMs, firstNewMs, lastOldMs) - triggerMs);
      firstNew.push(firstNewMs - triggerMs);
    });
  }
  // overseer's own account of each upgrade (ms from the trigger, medians): where the time went.
  const withPhases = timings.filter((t) => t.phases);
  const phases = withPhases.length === 0 ? null : Object.fromEntries(['spawned', 'listening', 'ready', 'live', 'drained'].map((key) => {
    const values = withPhases.map((t) => t.phases?.[key]).filter((v) => typeof v === 'number');
    return [key, values.length ? median(values) : null];
  }));
  return {
    id: contender.id,
    label: contender.label,
    phases,
    upgrades: complete.length,
    failedUpgrades,
    error,
    completeMs: { median: median(complete), max: complete.length ? Math.max(...complete) : null, all: complete.map((x) => Math.round(x)) },
    firstNewMs: { median: median(firstNew) },
    failed: report?.failed ?? null,
    total: report?.total ?? null,
  };
}
