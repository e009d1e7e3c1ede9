/**
 * Turns the bench's results into Markdown tables (printed, and pasted into
 * docs/benchmarks.md) and a JSON file under bench/results/, written after
 * every phase so that a run abandoned at its deadline keeps what it measured.
 *
 * Contract: `formatReport` only formats what was measured; a missing figure
 * prints as "–" and a contender's error is printed beside its row.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './deps.mjs';
import { formatStartup } from './startup.mjs';

const dash = '–';
/** @param {number | null | undefined} x @param {number} [digits] */
const num = (x, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? dash : x.toFixed(digits));
/** @param {number | null | undefined} kb */
const mib = (kb) => (kb === null || kb === undefined ? dash : (kb / 1024).toFixed(1));
/** @param {string[]} cells */
const row = (cells) => `| ${cells.join(' | ')} |`;
/** @param {string[]} head */
const header = (head) => `${row(head)}\n${row(head.map(() => '---'))}`;
/** @param {Record<string, number>} kinds */
const kinds = (kinds) => Object.entries(kinds ?? {}).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || dash;

/** @param {any} results @returns {string} Markdown */
export function formatReport(results) {
  const out = [];
  const { env } = results;
  out.push(`overseer bench, ${env.date} (${env.mode} run, ${Math.round(env.wallSeconds ?? 0)} s): node ${env.node}, pm2 ${env.pm2 ?? 'not installed'}, autocannon ${env.autocannon ?? 'not installed'}, overseer ${env.overseer}; ${env.cpus} × ${env.cpuModel}, ${env.os}; load average ${env.loadAvgAtStart?.[0] ?? '?'} at start, ${env.loadAvgAtEnd?.[0] ?? '?'} at end`);
  for (const [name, problem] of Object.entries(results.problems ?? {})) out.push(`\n**${name} unavailable**: ${problem}`);

  if (results.throughput) {
    out.push('\n### 1. Throughput tax');
    for (const t of results.throughput) {
      out.push(`\n${t.app}: ${t.tool}, ${t.connections} keep-alive connections, median of ${t.rounds} round(s) × ${t.durationS} s, contenders alternated\n`);
      out.push(header(['contender', 'req/s (median)', 'ratio to bare node', 'req/s range over rounds', 'p99 ms (median)', 'errors']));
      for (const r of t.rows) {
        const rates = (r.samples ?? []).map((x) => x.rps);
        const range = rates.length ? `${num(Math.min(...rates))}–${num(Math.max(...rates))}` : dash;
        out.push(row([r.label, num(r.rps), num(r.ratio, 3), range, num(r.p99, r.p99 % 1 ? 1 : 0), r.error ? `not run: ${r.error}` : String(r.errors)]));
      }
    }
  }

  if (results.deploy) {
    out.push('\n### 2. Deploy under load');
    for (const d of results.deploy) {
      const traffic = d.h2
        ? `HTTP/2 (h2c) h2-load-client with ${d.h2.sessions} sessions × ${d.h2.streams} concurrent streams, reusing each session until GOAWAY; every stream accounted for (streams refused as unprocessed are retried and listed under failures by kind as "refused, retried")`
        : `load-client with ${d.keepalive} keep-alive + ${d.fresh} new-connection-per-request loops; every request accounted for`;
      out.push(`\n${d.app}: ${d.upgrades} upgrades, one every ${d.intervalMs / 1000} s; ${traffic}\n`);
      out.push(header(['contender', 'upgrades done', 'requests', 'failed', 'failures by kind', 'p99 ms in upgrade windows', 'p99 ms outside', 'upgrade ms median / max']));
      for (const r of d.rows) {
        const notes = [r.late && `${r.late} late`, r.skipped && `${r.skipped} not started: 20 s period over`, r.failedUpgrades?.length && `${r.failedUpgrades.length} failed`].filter(Boolean);
        const byKind = r.refused ? { ...r.failuresByKind, 'refused, retried': r.refused } : r.failuresByKind;
        out.push(row([r.label, `${r.upgrades ?? dash}${notes.length ? ` (${notes.join(', ')})` : ''}`, num(r.total), num(r.failed), kinds(byKind), num(r.p99Inside, 1), num(r.p99Outside, 1), `${num(r.upgradeMs?.median)} / ${num(r.upgradeMs?.max)}`]) + (r.error ? ` ${r.error}` : ''));
      }
    }
  }

  if (results.upgradeTime) {
    out.push('\n### 3. Upgrade time');
    out.push(`\nFrom the trigger to the new version serving all traffic and every old process gone; hello app, ${results.upgradeTime[0]?.upgradesPlanned ?? '?'} upgrades each under light load (4 keep-alive + 1 new-connection loops)\n`);
    out.push(header(['app boot time', 'contender', 'median ms', 'max ms', 'first new answer ms (median)', 'failed requests']));
    for (const b of results.upgradeTime) {
      for (const r of b.rows) {
        const failedUpgrades = r.failedUpgrades?.length ? ` (${r.failedUpgrades.length} upgrade(s) failed: ${r.failedUpgrades[0]})` : '';
        out.push(row([`${b.bootMs} ms`, r.label, num(r.completeMs?.median), num(r.completeMs?.max), num(r.firstNewMs?.median), `${num(r.failed)} of ${num(r.total)}`]) + (r.error ? ` ${r.error}` : '') + failedUpgrades);
      }
    }
    const phased = results.upgradeTime.flatMap((b) => b.rows.filter((r) => r.phases).map((r) => ({ bootMs: b.bootMs, ...r })));
    if (phased.length) {
      out.push('\nWhere overseer\'s upgrade time goes, from its own phase times (median ms after the trigger, the generation\'s last worker; docs/upgrade.md): `listening` → `ready` is the app\'s own boot, the floor for any supervisor\n');
      out.push(header(['app boot time', 'contender', 'spawned', 'listening', 'ready', 'live', 'old gone']));
      for (const r of phased) {
        const p = r.phases;
        out.push(row([`${r.bootMs} ms`, r.label, num(p.spawned), num(p.listening), num(p.ready), num(p.live), num(p.drained)]));
      }
    }
  }

  if (results.footprint) {
    const f = results.footprint;
    out.push('\n### 4. Footprint');
    const settleS = (f.rows.find((r) => r.settleMs)?.settleMs ?? 0) / 1000;
    out.push(`\nThe process that stays, hello app with 2 workers/instances, idle vs after ${f.upgradesPlanned} back-to-back upgrades; each read at once (first answer; last upgrade done) and settled (${settleS} s later, nothing happening: after V8's memory reducer)\n`);
    out.push(header(['process', 'RSS MiB idle', 'RSS MiB idle, settled', 'RSS MiB after', 'RSS MiB after, settled', 'open fds idle', 'open fds after (settled)', 'upgrades done']));
    for (const r of f.rows) {
      const failedUpgrades = r.failedUpgrades?.length ? ` (+${r.failedUpgrades.length} failed)` : '';
      out.push(row([r.label, mib(r.idle?.rssKb), mib(r.idleSettled?.rssKb), mib(r.after?.rssKb), mib(r.afterSettled?.rssKb), num(r.idle?.fds), `${num(r.after?.fds)} (${num(r.afterSettled?.fds)})`, `${r.upgrades}${failedUpgrades}`]) + (r.error ? ` ${r.error}` : ''));
    }
  }
  if (results.scale) {
    out.push('\n### 6. Upgrade time against workers per generation');
    out.push(`\nhello app, ${results.scale[0]?.upgradesPlanned ?? '?'} upgrade(s) per size under light load (4 keep-alive + 1 new-connection loops); from the trigger to the new version serving all traffic and every old process gone; ratio = PM2's median / overseer's; overseer's "live" from its own phase times (its old workers then drain over \`--close-spread\`, 2 s)\n`);
    const labels = ['workers', 'overseer median ms', 'overseer max ms', 'pm2 reload median ms', 'pm2 reload max ms', 'ratio', 'overseer: new generation live ms', 'first new answer ms overseer / pm2', 'failed requests overseer / pm2'];
    out.push(header(labels));
    for (const s of results.scale) {
      const o = s.rows.find((r) => r.id.startsWith('scale-overseer'));
      const p = s.rows.find((r) => r.id.startsWith('scale-pm2'));
      const ratio = o?.completeMs?.median && p?.completeMs?.median ? p.completeMs.median / o.completeMs.median : null;
      const errors = s.rows.filter((r) => r.error).map((r) => `${r.label}: ${r.error}`).join('; ');
      out.push(row([String(s.workers), num(o?.completeMs?.median), num(o?.completeMs?.max), num(p?.completeMs?.median), num(p?.completeMs?.max), num(ratio, 2), num(o?.phases?.live), `${num(o?.firstNewMs?.median)} / ${num(p?.firstNewMs?.median)}`, `${o ? `${num(o.failed)} of ${num(o.total)}` : dash} / ${p ? `${num(p.failed)} of ${num(p.total)}` : dash}`]) + (errors ? ` ${errors}` : ''));
    }
  }

  if (results.drain) {
    out.push('\n### 7. Drain with many idle keep-alive connections');
    out.push(`\nhello app, 1 worker/instance; N connections each answered once, then idle, on the old worker; one upgrade under light load (2 keep-alive + 1 new-connection loops); the supervisor's RSS and fds before the connections were opened and after the upgrade (fd limit of the bench and what it starts: ${results.drain.fdLimit})\n`);
    out.push(header(['idle connections', 'contender', 'old worker gone ms', 'idle ended: FIN / reset / still open', 'failed requests', 'RSS MiB before → after', 'fds before → after']));
    for (const d of results.drain.runs) {
      for (const r of d.rows) {
        const c = r.idleClosed;
        out.push(row([String(d.connections), r.label, num(r.upgradeMs), c ? `${c.fin} / ${c.reset} / ${c.stillOpen}` : dash, `${num(r.failed)} of ${num(r.total)}`, `${mib(r.before?.rssKb)} → ${mib(r.after?.rssKb)}`, `${num(r.before?.fds)} → ${num(r.after?.fds)}`]) + (r.error ? ` ${r.error}` : ''));
      }
    }
  }

  if (results.selfHealing) {
    const h = results.selfHealing;
    out.push('\n### 8. Self-healing');
    out.push(`\nHung worker: heal app, one request to \`/hang\` (blocks the event loop forever) under light load (4 keep-alive + 1 new-connection loops); ms from that request; failed = every failed request of the run\n`);
    out.push(header(['contender', 'hang detected ms', 'replacement serves ms', 'hung process gone ms', 'failed requests', 'failures by kind']));
    for (const r of h.hang) {
      const serves = r.replaced ? num(r.replacementServesMs) : 'never (not replaced)';
      out.push(row([r.label, num(r.detectMs), serves, num(r.hungGoneMs), `${num(r.failed)} of ${num(r.total)}`, kinds(r.failuresByKind)]) + (r.error ? ` ${r.error}` : ''));
    }
    out.push(`\nLeaking worker: heal app, 2 workers/instances, ${h.recycles} leak(s) of ${h.growMb} MiB (\`/grow\`) past a ${h.maxMemory} limit, one after another, under light load; PM2's memory check every ${h.pm2WorkerIntervalMs} ms (PM2_WORKER_INTERVAL; its default is 30 000)\n`);
    out.push(header(['contender', 'recycles', 'leak → old process gone ms (median / max)', 'leak → replacement serves ms (median)', 'failed requests', 'failures by kind']));
    for (const r of h.memory) {
      out.push(row([r.label, String(r.recycles), `${num(r.goneMs?.median)} / ${num(r.goneMs?.max)}`, num(r.replacementServesMs?.median), `${num(r.failed)} of ${num(r.total)}`, kinds(r.failuresByKind)]) + (r.error ? ` ${r.error}` : ''));
    }
  }

  if (results.selfUpgrade) {
    const u = results.selfUpgrade;
    out.push('\n### 9. Replacing the supervisor itself');
    out.push(`\nhello app, ${u.workers} workers/instances, ${u.upgradesPlanned} self-upgrades each, back to back, under load (${u.load.keepalive} keep-alive + ${u.load.fresh} new-connection loops, every request accounted for); ms from the moment the bench runs the CLI (its start-up included), median / max; "own account" = the \`durationMs\` overseer's CLI prints (the master's request → the successor took over, without the CLI's start-up); gap = the old version's last answer to the new one's first (0 when they overlap); failed = every failed request of the run; listening socket kept = the same inode on the port before and after each (/proc/net/tcp)\n`);
    out.push(header(['contender', 'done', 'CLI exit ms', 'own account ms', 'old supervisor gone ms', 'new version\'s first answer ms', 'gap without answers ms', 'failed requests', 'failures by kind', 'port kept', 'listening socket kept']));
    const yes = (/** @type {boolean} */ b, /** @type {number} */ n) => (n === 0 ? dash : b ? 'yes' : 'no');
    for (const r of u.rows) {
      const failedUpgrades = r.failedUpgrades?.length ? ` (+${r.failedUpgrades.length} failed: ${r.failedUpgrades[0]})` : '';
      const pair = (/** @type {any} */ s) => `${num(s?.median)} / ${num(s?.max)}`;
      out.push(row([r.label, `${r.upgrades}${failedUpgrades}`, pair(r.cliMs), r.ownMs?.median === null || r.ownMs === undefined ? dash : pair(r.ownMs), pair(r.oldGoneMs), pair(r.firstNewMs), pair(r.gapMs), `${num(r.failed)} of ${num(r.total)}`, kinds(r.failuresByKind), yes(r.samePort, r.upgrades), yes(r.sameSocket, r.upgrades)]) + (r.error ? ` ${r.error}` : ''));
    }
    for (const r of u.rows.filter((x) => x.phases)) {
      out.push(`\nWhere ${r.label}'s time goes (median ms after the trigger, read from its log): successor said hello ${num(r.phases.started)}, its first generation ready and held back ${num(r.phases.held)}, handed over ${num(r.phases.handedOver)}, CLI exit ${num(r.cliMs?.median)}, old master gone ${num(r.oldGoneMs?.median)} (it drains its workers first)`);
    }
  }

  if (results.startup) {
    out.push('\n### 5. CLI start-up');
    out.push(`\n${formatStartup(results.startup)}`);
  }
  return out.join('\n');
}

/** @returns {string} a new path under bench/results/ for this run's JSON (and, beside it, its charts) */
export function resultsPath() {
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  return join(dir, `bench-${stamp}.json`);
}

/** @param {any} results @param {string} path from `resultsPath`; rewritten after every phase */
export function writeResults(results, path) {
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
