/**
 * Phase self-upgrade: replacing the supervisor itself (a new overseer or
 * Node.js for the master; a new PM2 for its daemon) under load, on the hello
 * app: `overseer upgrade --self` against `pm2 update`.
 *
 * Contracts:
 * - A load runs throughout (keep-alive and new-connection loops; every
 *   request accounted for). Before each self-upgrade the version file is
 *   rewritten, so the processes started afterwards answer the next version
 *   and the load client times when the new supervisor's processes serve.
 * - Per self-upgrade, in ms from the trigger (the moment the bench starts the
 *   CLI; the CLI's own start-up is included, as a user waits for it too):
 *   `cliMs` the CLI's exit (and `overseerMs`, the `durationMs` overseer's
 *   CLI prints: the master's own request → take-over), `oldGoneMs` the old supervisor process gone
 *   (overseer's old master after draining its workers, with its exit code
 *   when it is our child, i.e. the first one; PM2's old daemon),
 *   `firstNewMs` the first answer of the new version, `gapMs` the time
 *   between the old version's last answer and the new one's first (0 when
 *   they overlap); `failed` the requests that failed from the trigger until
 *   the new version had answered 200 times; `samePort` the new version
 *   answers on the port of before (overseer: and the successor's
 *   `master.started` names it); overseer's `phases`: when the bench read
 *   `succession.started` (the successor said hello), `succession.held` (its
 *   first generation ready, held back) and `succession.handed-over`; `sameSocket` one listening socket on that
 *   port, with the same inode, before and after (/proc/net/tcp).
 * - Self-upgrades run back to back: the next starts once the previous one is
 *   done and the new version has answered 200 requests. One the supervisor
 *   reports as failed is listed in `failedUpgrades`; the run goes on.
 * - The contender and the load are always stopped.
 */
import { UpgradeFailed } from './contenders.mjs';
import { underLoad } from './under-load.mjs';
import { listeningInodes, median } from './procs.mjs';

/** Requests of the new version to wait for after each self-upgrade (and of v0 at start). */
const SETTLED = 200;

/**
 * @param {{ contender: any, upgrades: number, load: { keepalive: number, fresh: number }, log: (l: string) => void }} options
 */
export async function measureSelfUpgrade({ contender, upgrades, load: shape, log }) {
  /** @type {Array<Record<string, any>>} */
  const runs = [];
  /** @type {string[]} */
  const failedUpgrades = [];
  const { load, report, error } = await underLoad({ contender, load: { ...shape, durationMs: 300_000, timeoutMs: 10_000 }, log }, async (load) => {
    const port = Number(new URL(contender.url).port);
    await load.waitForVersion('v0', { minCount: SETTLED });
    let serving = 'v0';
    for (let i = 1; i <= upgrades; i++) {
      const socketBefore = listeningInodes(port);
      const failedBefore = (await load.snapshot()).failed;
      /** @type {Record<string, any>} */
      let r;
      try {
        r = await contender.selfUpgrade(`v${i}`);
      } catch (err) {
        if (!(err instanceof UpgradeFailed)) throw err;
        failedUpgrades.push(err.message);
        log(`  ${contender.label}: self-upgrade ${i} failed, the old supervisor still serving: ${err.message}`);
        continue;
      }
      await load.waitForVersion(`v${i}`, { minCount: SETTLED });
      const failed = (await load.snapshot()).failed - failedBefore;
      const socketAfter = listeningInodes(port);
      const samePort = (r.port ?? port) === port && socketAfter.length > 0;
      const sameSocket = socketBefore.length === 1 && socketAfter.length === 1 && socketBefore[0] === socketAfter[0];
      runs.push({ version: `v${i}`, previous: serving, ...r, failed, samePort, sameSocket, socketBefore, socketAfter });
      serving = `v${i}`;
      const ms = (/** @type {number | null} */ t) => (t === null ? 'not within the deadline' : `${(t - r.triggerMs).toFixed(0)} ms`);
      log(`    ${i}: pid ${r.previousPid} → ${r.pid}; CLI exit ${ms(r.cliMs)}, old gone ${ms(r.oldGoneMs)}${r.oldExitCode === null || r.oldExitCode === undefined ? '' : ` (exit ${r.oldExitCode})`}; ${failed} failed; socket ${socketBefore.join(',') || 'none'} → ${socketAfter.join(',') || 'none'}`);
    }
  });
  const timed = runs.map((run) => {
    const since = (/** @type {number | null} */ t) => (t === null || t === undefined ? null : Math.round(t - run.triggerMs));
    const spanNew = report?.versionSpans?.[run.version];
    const spanOld = report?.versionSpans?.[run.previous];
    const firstNew = spanNew && load ? load.toBench(spanNew.firstMs) : null;
    const lastOld = spanOld && load ? load.toBench(spanOld.lastMs) : null;
    return {
      version: run.version,
      previousPid: run.previousPid,
      pid: run.pid,
      cliMs: since(run.cliMs),
      overseerMs: run.overseerMs ?? null,
      phases: run.phases ? Object.fromEntries(Object.entries(run.phases).map(([k, v]) => [k, Math.round(v)])) : null,
      oldGoneMs: since(run.oldGoneMs),
      oldExitCode: run.oldExitCode ?? null,
      firstNewMs: since(firstNew),
      gapMs: firstNew !== null && lastOld !== null ? Math.max(0, Math.round(firstNew - lastOld)) : null,
      failed: run.failed,
      samePort: run.samePort,
      sameSocket: run.sameSocket,
      socketBefore: run.socketBefore,
      socketAfter: run.socketAfter,
    };
  });
  /** @param {string} key */
  const stats = (key) => {
    const values = timed.map((t) => t[key]).filter((v) => typeof v === 'number');
    return { median: median(values), max: values.length ? Math.max(...values) : null };
  };
  return {
    id: contender.id,
    label: contender.label,
    upgrades: timed.length,
    failedUpgrades,
    error,
    runs: timed,
    cliMs: stats('cliMs'),
    ownMs: stats('overseerMs'),
    phases: timed.some((t) => t.phases) ? Object.fromEntries(['started', 'held', 'handedOver'].map((key) => [key, median(timed.map((t) => t.phases?.[key]).filter((v) => typeof v === 'number'))])) : null,
    oldGoneMs: stats('oldGoneMs'),
    firstNewMs: stats('firstNewMs'),
    gapMs: stats('gapMs'),
    samePort: timed.length > 0 && timed.every((t) => t.samePort),
    sameSocket: timed.length > 0 && timed.every((t) => t.sameSocket),
    failed: report?.failed ?? null,
    total: report?.total ?? null,
    failuresByKind: report?.failuresByKind ?? {},
  };
}
