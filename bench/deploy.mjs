/**
 * Phase 2, deploy under load: the contender is upgraded every 2 s for 20 s
 * while bench/load-client.mjs sends keep-alive traffic (~50 connections) and
 * new-connection-per-request traffic, and counts every failed request.
 *
 * Contracts:
 * - Cadence: upgrade k (k = 1…n) is triggered at t0 + k·interval, or as soon
 *   as upgrade k-1 is done if that is later (upgrades never overlap; a late
 *   one is counted in `late`). None is triggered after t0 + n·interval (the
 *   20 s period): those are counted in `skipped`. The waits until those
 *   instants are the only fixed waits.
 * - An upgrade window is [trigger, done] as the contender defines done (new
 *   version serving, old processes gone). The client reports p99 latency of
 *   the requests that overlap a window vs the others.
 * - After the last upgrade, the load runs until the last version has
 *   answered 200 more requests, then stops; the client settles every
 *   in-flight request before it reports.
 * - `timeline` (for bench/chart-spec.mjs): the client's per-100 ms and
 *   per-second counts (bench/timeline.mjs) and the upgrade windows, all in
 *   ms from t0, the instant the cadence starts (upgrade k at k·interval), so
 *   every contender's run is drawn on the same time axis.
 * - An upgrade the supervisor reports as failed (old version still serving)
 *   is counted in `failedUpgrades` and the run goes on; a timeout ends that
 *   contender's run, reported as `error`. The contender is always stopped.
 */
import { stopContender, UpgradeFailed } from './contenders.mjs';
import { startLoad } from './load.mjs';
import { delay, now } from './procs.mjs';

/**
 * `h2`: HTTP/2 traffic (bench/h2-load-client.mjs) instead of HTTP/1.1.
 * @param {{ contender: any, upgrades: number, intervalMs: number, keepalive: number, fresh: number, h2?: { sessions: number, streams: number }, log: (l: string) => void }} options
 */
export async function deployUnderLoad({ contender, upgrades, intervalMs, keepalive, fresh, h2, log }) {
  /** @type {Awaited<ReturnType<typeof startLoad>> | null} */
  let load = null;
  /** @type {Array<[number, number]>} */
  const windows = [];
  const durations = [];
  let late = 0;
  let skipped = 0;
  /** @type {string[]} */
  const failedUpgrades = [];
  /** @type {string | null} */
  let error = null;
  let report = null;
  /** @type {number | null} bench clock */
  let t0 = null;
  /** @type {ReturnType<typeof fromT0> | null} */
  let timeline = null;
  try {
    await contender.start();
    load = await startLoad(contender.url, { keepalive, fresh, h2, durationMs: upgrades * intervalMs + 120_000, timeoutMs: 5_000 });
    await load.waitForVersion('v0', { minCount: 200 });
    t0 = now();
    const periodEnd = t0 + upgrades * intervalMs;
    let lastVersion = 'v0';
    for (let k = 1; k <= upgrades; k++) {
      const at = t0 + k * intervalMs;
      if (now() > periodEnd) { skipped = upgrades - k + 1; break; } // upgrades took longer than the cadence
      if (now() > at) late++;
      await delay(at - now()); // the prescribed cadence
      const version = `v${k}`;
      try {
        const { triggerMs, doneMs } = await contender.deploy(version);
        windows.push([triggerMs, doneMs]);
        durations.push(doneMs - triggerMs);
        lastVersion = version;
      } catch (err) {
        if (!(err instanceof UpgradeFailed)) throw err;
        failedUpgrades.push(err.message);
        log(`  ${contender.label}: upgrade to ${version} failed, old version still serving: ${err.message}`);
      }
    }
    await load.waitForVersion(lastVersion, { minCount: 200 });
  } catch (err) {
    error = err.message;
    log(`  ${contender.label}: ${err.message}`);
  } finally {
    if (load) {
      try { report = await load.stop(windows); } catch (err) { error ??= err.message; }
    }
    if (load && report?.timeline && t0 !== null) timeline = fromT0(report.timeline, windows, load.toBench, t0);
    await stopContender(contender, log);
  }
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    id: contender.id,
    label: contender.label,
    upgrades: windows.length,
    late,
    skipped,
    failedUpgrades,
    error,
    upgradeMs: { median: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null, max: sorted.length ? sorted[sorted.length - 1] : null },
    total: report?.total ?? null,
    failed: report?.failed ?? null,
    failuresByKind: report?.failuresByKind ?? {},
    byLoop: report?.byLoop ?? null,
    versionsSeen: report ? Object.keys(report.versions).length : null,
    refused: report?.refused ?? null,
    p99: report?.latencyMs?.p99 ?? null,
    p99Inside: report?.latencyMs?.insideWindows?.p99 ?? null,
    p99Outside: report?.latencyMs?.outsideWindows?.p99 ?? null,
    insideCount: report?.latencyMs?.insideWindows?.count ?? 0,
    errors: report?.errors.slice(0, 5) ?? [],
    timeline,
  };
}

/**
 * The client's timeline and the bench's windows, moved to ms from `t0`.
 * @param {import('./timeline.mjs').TimelineReport} timeline client clock
 * @param {Array<[number, number]>} windows bench clock
 * @param {(clientMs: number) => number} toBench
 * @param {number} t0 bench clock
 */
function fromT0(timeline, windows, toBench, t0) {
  const r1 = (/** @type {number} */ ms) => Math.round(ms * 10) / 10;
  const rel = (/** @type {number} */ clientMs) => r1(toBench(clientMs) - t0);
  return {
    bucketMs: timeline.bucketMs,
    latencyBucketMs: timeline.latencyBucketMs,
    answered: timeline.answered.map(([t, version, n]) => [rel(t), version, n]),
    failed: timeline.failed.map(([t, kind, n]) => [rel(t), kind, n]),
    p99: timeline.p99.map(([t, ms, n]) => [rel(t), ms, n]),
    windows: windows.map(([a, b]) => [r1(a - t0), r1(b - t0)]),
  };
}
