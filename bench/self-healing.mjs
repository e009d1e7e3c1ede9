/**
 * Phase self-healing (issue 10): what a hung worker and a leaking worker
 * cost the traffic, under a light load (4 keep-alive + 1 new-connection
 * loops), on the `heal` app (bench/apps/heal.js: `/hang` blocks the loop
 * forever, `/grow?mb=N` leaks N MiB; every answer names its pid).
 *
 * Contracts:
 * - Hang: one GET /hang on a new connection is the trigger (bench clock,
 *   when it is sent). Measured: trigger → `worker.hung` (detection), trigger
 *   → the replacement's first answer to the load (the replacement is the
 *   worker spawned for that slot after `worker.hung`), trigger → the hung pid
 *   gone, and the failed requests of the whole run. The contender that has
 *   no hang detection (PM2) is watched for `windowMs` after the trigger:
 *   "not replaced" and what failed meanwhile; its hung process is then
 *   SIGKILLed by the bench (it is tracked) when the contender stops.
 * - Memory: one GET /grow?mb=<grow> per recycle makes the worker that gets
 *   it exceed the limit. Measured per recycle: trigger → that pid gone, and
 *   trigger → a new pid answering. Recycles run one after another; failed
 *   requests are counted for the whole run.
 * - Every wait has a deadline; the contender and the load are always stopped.
 */
import http from 'node:http';
import { underLoad } from './under-load.mjs';
import { isAlive, median, now, waitUntil } from './procs.mjs';

/** @param {string} url @param {string} path fire one GET on a new connection; resolve with the answering pid's tag, or null */
function poke(url, path, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const req = http.get(new URL(path, url), { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-version'] ?? '')));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

const pidOf = (/** @type {string} */ tag) => Number(tag.slice(1));

/** @param {any} report the load client's report @param {(ms: number) => number} toBench @param {number} pid */
const firstAnswer = (report, toBench, pid) => {
  const span = report?.versionSpans?.[`p${pid}`];
  return span ? toBench(span.firstMs) : null;
};

/**
 * @param {{ contender: any, detects: boolean, windowMs: number, log: (l: string) => void }} options
 * `detects`: the contender is overseer (its events name the hung and replacement pids)
 */
export async function measureHang({ contender, detects, windowMs, log }) {
  const r = { id: contender.id, label: contender.label, detectMs: null, replacementServesMs: null, hungGoneMs: null, replaced: false, failed: null, total: null, failuresByKind: {}, error: null };
  let trigger = 0;
  let replacementPid = null;
  const { load, report, error } = await underLoad({ contender, load: { keepalive: 4, fresh: 1, durationMs: 120_000, timeoutMs: 10_000 }, log }, async (load) => {
    await waitUntil(async () => (await load.snapshot()).ok >= 200, { timeoutMs: 20_000, intervalMs: 20, what: 'load warmed up' });
    const after = contender.events?.length ?? 0;
    trigger = now();
    void poke(contender.url, '/hang', windowMs + 20_000);
    if (detects) {
      const hung = await contender.waitFor((e) => e.event === 'worker.hung', { after, timeoutMs: windowMs, what: 'worker.hung' });
      r.detectMs = hung.benchMs - trigger;
      const spawned = await contender.waitFor((e) => e.event === 'worker.spawned' && e.pid !== hung.pid, { after, timeoutMs: 20_000, what: 'the replacement spawned' });
      replacementPid = spawned.pid;
      const exited = await contender.waitFor((e) => e.event === 'worker.exited' && e.pid === hung.pid, { after, timeoutMs: 20_000, what: 'the hung worker to exit' });
      r.hungGoneMs = exited.benchMs - trigger;
      await load.waitForVersion(`p${replacementPid}`, { minCount: 20 });
      r.replaced = true;
    } else {
      // No hang detection: watch the window, then stop (the bench kills the hung process).
      const before = new Set(await contender.workerPids());
      await waitUntil(async () => {
        const pids = await contender.workerPids();
        const fresh = pids.find((pid) => !before.has(pid));
        if (fresh) replacementPid = fresh;
        return now() - trigger > windowMs || fresh !== undefined;
      }, { timeoutMs: windowMs + 5000, intervalMs: 200, what: 'the window' });
      if (replacementPid) await load.waitForVersion(`p${replacementPid}`, { minCount: 20 }).then(() => { r.replaced = true; }, () => {});
    }
  });
  if (report && load && replacementPid) {
    const first = firstAnswer(report, load.toBench, replacementPid);
    r.replacementServesMs = first === null ? null : first - trigger;
  }
  return { ...r, error, failed: report?.failed ?? null, total: report?.total ?? null, failuresByKind: report?.failuresByKind ?? {} };
}

/**
 * @param {{ contender: any, recycles: number, growMb: number, timeoutMs: number, log: (l: string) => void }} options
 */
export async function measureRecycle({ contender, recycles, growMb, timeoutMs, log }) {
  /** @type {Array<{ trigger: number, pid: number, goneMs: number, newPid: number | null }>} */
  const done = [];
  const { load, report, error } = await underLoad({ contender, load: { keepalive: 4, fresh: 1, durationMs: 300_000, timeoutMs: 10_000 }, log }, async (load) => {
    await waitUntil(async () => (await load.snapshot()).ok >= 200, { timeoutMs: 20_000, intervalMs: 20, what: 'load warmed up' });
    for (let i = 0; i < recycles; i++) {
      const before = new Set(await contender.workerPids());
      const trigger = now();
      const tag = await poke(contender.url, `/grow?mb=${growMb}`);
      if (!tag) throw new Error('the /grow request failed');
      const pid = pidOf(tag);
      await waitUntil(() => !isAlive(pid), { timeoutMs, intervalMs: 20, what: `the leaking worker ${pid} to be recycled` });
      const goneMs = now() - trigger;
      const pids = await waitUntil(async () => {
        const list = await contender.workerPids();
        return list.length >= before.size && !list.includes(pid) ? list : null;
      }, { timeoutMs: 20_000, intervalMs: 50, what: 'the worker list to show the replacement' });
      const newPid = pids.find((p) => !before.has(p)) ?? null;
      if (newPid) await load.waitForVersion(`p${newPid}`, { minCount: 20 });
      done.push({ trigger, pid, goneMs, newPid });
      log(`    recycle ${i + 1}: pid ${pid} gone after ${goneMs.toFixed(0)} ms`);
    }
  });
  const serves = report && load ? done.map((d) => (d.newPid ? firstAnswer(report, load.toBench, d.newPid) : null)).map((t, i) => (t === null ? null : t - done[i].trigger)) : [];
  return {
    id: contender.id,
    label: contender.label,
    recycles: done.length,
    goneMs: { median: median(done.map((d) => d.goneMs)), max: done.length ? Math.max(...done.map((d) => d.goneMs)) : null },
    replacementServesMs: { median: median(serves.filter((x) => x !== null)) },
    failed: report?.failed ?? null,
    total: report?.total ?? null,
    failuresByKind: report?.failuresByKind ?? {},
    error,
  };
}
