/**
 * Phase 1, throughput tax: req/s and p99 of each contender running the same
 * app, as a ratio to bare `node app.js`.
 *
 * Contracts:
 * - Per app, every contender is started first (idle ones cost no CPU), then
 *   measured in rounds; each round visits every contender once, in an order
 *   rotated (and reversed every other round) so that machine drift and
 *   position effects spread evenly. A contender's figure is the median of
 *   its rounds.
 * - One warm-up run per contender (discarded) before the rounds.
 * - A contender that cannot start is left out (its row says why); every
 *   contender is stopped before the next app, whatever happened.
 */
import { measure } from './autocannon.mjs';
import { bare, overseer, pm2, stopContender } from './contenders.mjs';
import { median } from './procs.mjs';

/**
 * @param {{ apps: string[], dir: string, pm2Daemon: import('./pm2.mjs').Pm2 | null, autocannon: any,
 *   rounds: number, durationS: number, warmupS: number, connections: number, log: (l: string) => void }} options
 */
export async function runThroughput({ apps, dir, pm2Daemon, autocannon, rounds, durationS, warmupS, connections, log }) {
  const results = [];
  for (const app of apps) {
    const contenders = [
      bare({ app, dir, id: 'tp-bare' }),
      overseer({ app, dir, workers: 1, id: 'tp-overseer-1' }),
      overseer({ app, dir, workers: 'max', id: 'tp-overseer-max' }),
    ];
    if (pm2Daemon) {
      contenders.push(
        pm2({ pm2: pm2Daemon, app, dir, mode: 'cluster', instances: 1, id: `tp-pm2-cluster-1-${app}`, label: 'pm2 cluster -i 1' }),
        pm2({ pm2: pm2Daemon, app, dir, mode: 'cluster', instances: 'max', id: `tp-pm2-cluster-max-${app}`, label: 'pm2 cluster -i max' }),
        pm2({ pm2: pm2Daemon, app, dir, mode: 'fork', id: `tp-pm2-fork-${app}`, label: 'pm2 fork' }),
      );
    }
    /** @type {Map<string, Array<{ rps: number, p99: number, errors: number }>>} */
    const samples = new Map(contenders.map((c) => [c.id, []]));
    let tool = '';
    /** @type {any[]} */
    const started = [];
    /** @type {Map<string, string>} */
    const failures = new Map();
    try {
      for (const c of contenders) {
        try {
          await c.start();
          started.push(c);
        } catch (err) {
          failures.set(c.id, err.message);
          log(`  ${app} ${c.label}: could not start, left out: ${err.message}`);
          try { await c.stop(); } catch { /* it did not start */ }
        }
      }
      const running = contenders.filter((c) => started.includes(c));
      for (const c of running) await measure(autocannon, c.url, { connections, durationS: warmupS });
      for (let round = 0; round < rounds; round++) {
        const order = running.map((_, i) => running[(i + round) % running.length]);
        if (round % 2 === 1) order.reverse();
        for (const c of order) {
          const m = await measure(autocannon, c.url, { connections, durationS });
          tool = m.tool;
          samples.get(c.id)?.push({ rps: m.rps, p99: m.p99, errors: m.errors });
          log(`  ${app} round ${round + 1}/${rounds} ${c.label}: ${Math.round(m.rps)} req/s, p99 ${m.p99} ms${m.errors ? `, ${m.errors} errors` : ''}`);
        }
      }
    } finally {
      for (const c of [...started].reverse()) {
        await stopContender(c, log);
      }
    }
    const rows = contenders.map((c) => {
      const s = samples.get(c.id) ?? [];
      return { id: c.id, label: c.label, rps: median(s.map((x) => x.rps)), p99: median(s.map((x) => x.p99)), errors: s.reduce((a, x) => a + x.errors, 0), samples: s, error: failures.get(c.id) ?? null };
    });
    const base = rows[0].rps;
    for (const row of rows) row.ratio = base && row.rps !== null ? row.rps / base : null;
    results.push({ app, tool, connections, durationS, rounds, rows });
  }
  return results;
}
