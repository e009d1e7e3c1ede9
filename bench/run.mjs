#!/usr/bin/env node
/**
 * `npm run bench`: overseer side by side with bare node and PM2, in one run.
 *
 *   node bench/run.mjs [--quick] [--phases startup,throughput,deploy,upgrade-time,scale,drain,self-healing,footprint,self-upgrade]
 *                      [--skip-pm2] [--skip-autocannon]
 *
 * Contracts:
 * - Installs its tools (pinned pm2 and autocannon) into bench/.deps; one that
 *   cannot be installed is reported and its contenders are left out (without
 *   PM2: overseer vs bare node; without autocannon: throughput measured with
 *   bench/load-client.mjs).
 * - Measures dist/ as built (`npm run build` after changing src/), from a
 *   copy taken at start, so a rebuild during the run changes nothing.
 * - Traffic goes only to 127.0.0.1. PM2 runs with a private PM2_HOME per
 *   phase, killed at the end of the phase.
 * - Bounded: a full run takes about 8 minutes on 2 cores for the first five
 *   phases, plus about 4.5 for scale, drain and self-healing (and the 100
 *   upgrades of footprint, and its 4 × 12 s at rest), plus about 1 for
 *   self-upgrade; at 15 minutes (6 for --quick) the run is abandoned.
 *   Whatever ends it (done, error, deadline, SIGINT/SIGTERM), every process
 *   it started is stopped, and PM2's daemon killed, before it exits.
 * - Prints Markdown tables and writes the full results as JSON under
 *   bench/results/ (after every phase: an abandoned run keeps the phases it
 *   finished), and, right after the deploy phase, one chart per app beside it
 *   (bench/chart-render.mjs; SVG, rendered with vega from bench/.deps: if it
 *   cannot be installed or fails, the run goes on without charts). Exit code
 *   0 when every phase ran, 1 otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { writeDeployCharts } from './chart-render.mjs';
import { bare, isH2App, overseer, pm2, useOverseerSnapshot } from './contenders.mjs';
import { BENCH_DIR, ensureDeps } from './deps.mjs';
import { deployUnderLoad } from './deploy.mjs';
import { measureFootprint } from './footprint.mjs';
import { Pm2 } from './pm2.mjs';
import { cleanup, cleanupSync, now, onCleanupSync } from './procs.mjs';
import { formatReport, resultsPath, writeResults } from './report.mjs';
import { measureStartup } from './startup.mjs';
import { runThroughput } from './throughput.mjs';
import { measureUpgradeTime } from './upgrade-time.mjs';
import { fdLimit, measureDrain } from './drain.mjs';
import { measureHang, measureRecycle } from './self-healing.mjs';
import { measureSelfUpgrade } from './self-upgrade.mjs';

const PHASES = ['startup', 'throughput', 'deploy', 'upgrade-time', 'scale', 'drain', 'self-healing', 'footprint', 'self-upgrade'];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    phases: { type: 'string', default: PHASES.join(',') },
    'skip-pm2': { type: 'boolean', default: false },
    'skip-autocannon': { type: 'boolean', default: false },
  },
});
const phases = values.phases.split(',').map((p) => p.trim()).filter(Boolean);
for (const p of phases) {
  if (!PHASES.includes(p)) {
    process.stderr.write(`bench: unknown phase "${p}" (phases: ${PHASES.join(', ')})\n`);
    process.exit(2);
  }
}

/**
 * The self-healing phase: a 2 s hang timeout (the default 30 s would only
 * lengthen the run); a 96 MiB memory limit that one 128 MiB leak exceeds;
 * PM2's memory check every second instead of every 30 s (PM2_WORKER_INTERVAL).
 * @param {number} recycles
 */
const SELF_HEALING = (recycles) => ({ hangTimeoutMs: 2000, maxMemory: '96M', growMb: 128, recycles, pm2WorkerIntervalMs: 1000 });
/** Sizes of each phase; --quick is for development, not for numbers. */
const PLAN = values.quick
  ? { startup: { runs: 5 }, throughput: { apps: ['hello'], rounds: 1, durationS: 2, warmupS: 1 }, deploy: { apps: ['hello', 'h2'], upgrades: 3 }, upgradeTime: { upgrades: 2 }, scale: { workers: [1, 4], upgrades: 1 }, drain: { connections: [1000] }, selfHealing: SELF_HEALING(1), footprint: { upgrades: 10 }, selfUpgrade: { upgrades: 2 }, deadlineMs: 6 * 60_000 }
  : { startup: { runs: 21 }, throughput: { apps: ['hello', 'express'], rounds: 4, durationS: 2, warmupS: 1 }, deploy: { apps: ['hello', 'express', 'h2'], upgrades: 10 }, upgradeTime: { upgrades: 5 }, scale: { workers: [1, 2, 4, 8, 16], upgrades: 3 }, drain: { connections: [1000, 10_000] }, selfHealing: SELF_HEALING(2), footprint: { upgrades: 100 }, selfUpgrade: { upgrades: 5 }, deadlineMs: 15 * 60_000 };
const CONNECTIONS = 50;
const DEPLOY = { intervalMs: 2000, keepalive: 50, fresh: 2 };
/** Replacing the supervisor itself: 2 workers/instances (this machine's 2 cores), 4 keep-alive + 2 new-connection loops. */
const SELF_UPGRADE = { workers: 2, load: { keepalive: 4, fresh: 2 } };
/** HTTP/2 apps: 8 sessions × 8 concurrent streams, about as many requests in flight as DEPLOY's loops. */
const DEPLOY_H2 = { sessions: 8, streams: 8 };

const T0 = now();
/** @param {string} line */
const log = (line) => process.stdout.write(`[${((now() - T0) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

process.on('exit', cleanupSync);
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    log(`${sig}: stopping everything the bench started`);
    cleanup().finally(() => process.exit(130));
  });
}
for (const event of /** @type {const} */ (['uncaughtException', 'unhandledRejection'])) {
  process.on(event, (err) => {
    log(`${event}: ${/** @type {any} */ (err)?.stack ?? err}; stopping everything the bench started`);
    cleanup().finally(() => process.exit(1));
  });
}
/** @type {string | null} the results file, once a phase has been written to it */
let written = null;
const deadline = setTimeout(() => {
  log(`time budget of ${PLAN.deadlineMs / 60_000} min exceeded: abandoning the run${written ? `; the phases done so far are in ${written}` : ''}`);
  cleanup().finally(() => process.exit(1));
}, PLAN.deadlineMs);
deadline.unref();

async function main() {
  if (!existsSync(join(BENCH_DIR, '..', 'dist', 'master'))) {
    throw new Error('dist/ is missing: run `npm run build` (or `npm install`) first');
  }
  // The start-up phase runs only node and overseer: it needs no tools.
  const needsTools = phases.some((p) => p !== 'startup');
  if (needsTools) log('checking bench tools (bench/.deps)');
  const { tools, problems } = needsTools
    ? ensureDeps(log)
    : { tools: /** @type {any} */ ({ pm2: null, autocannon: null }), problems: {} };
  if (values['skip-pm2']) { tools.pm2 = null; problems.pm2 = 'left out with --skip-pm2'; }
  if (values['skip-autocannon']) { tools.autocannon = null; problems.autocannon = 'left out with --skip-autocannon: throughput measured with bench/load-client.mjs'; }
  for (const [name, problem] of Object.entries(problems)) log(`WARNING: ${name} unavailable, benching without it: ${problem}`);

  const load1 = os.loadavg()[0];
  if (load1 > os.cpus().length / 2) log(`WARNING: load average ${load1.toFixed(2)} on ${os.cpus().length} cores: other work is running, figures will be noisy`);

  const dir = mkdtempSync(join(os.tmpdir(), 'overseer-bench-'));
  onCleanupSync(() => rmSync(dir, { recursive: true, force: true }));
  const bin = useOverseerSnapshot(join(dir, 'overseer'));
  const check = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 20_000 });
  if (check.status !== 0) throw new Error(`the overseer snapshot does not run: ${check.stderr || check.error?.message}`);
  log(`overseer ${check.stdout.trim()} (bin/ and dist/ copied at start; a rebuild meanwhile does not affect this run)`);

  /** A PM2 daemon private to one phase, or null without PM2. */
  const phasePm2 = () => (tools.pm2 ? new Pm2(tools.pm2) : null);

  const results = {
    env: {
      date: new Date().toISOString(),
      mode: values.quick ? 'quick' : 'full',
      node: process.version,
      pm2: tools.pm2?.version ?? null,
      autocannon: tools.autocannon?.version ?? null,
      overseer: JSON.parse(readFileSync(join(BENCH_DIR, '..', 'package.json'), 'utf8')).version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      os: `${os.type()} ${os.release()}`,
      loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
      loadAvgAtEnd: /** @type {number[] | null} */ (null),
      wallSeconds: 0,
    },
    problems,
    /** @type {any} */ startup: null,
    /** @type {any} */ throughput: null,
    /** @type {any} */ deploy: null,
    /** @type {any} */ upgradeTime: null,
    /** @type {any} */ footprint: null,
    /** @type {any} */ scale: null,
    /** @type {any} */ drain: null,
    /** @type {any} */ selfHealing: null,
    /** @type {any} */ selfUpgrade: null,
    failedPhases: /** @type {string[]} */ ([]),
  };

  const path = resultsPath();
  const save = () => {
    results.env.wallSeconds = (now() - T0) / 1000;
    results.env.loadAvgAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
    writeResults(results, path);
    written = path;
  };

  /** @param {string} name @param {(pm2Daemon: Pm2 | null) => Promise<any>} body @param {{ pm2?: boolean }} [options] */
  const phase = async (name, body, { pm2: withPm2 = true } = {}) => {
    if (!phases.includes(name)) return null;
    log(`phase ${name}`);
    const daemon = withPm2 ? phasePm2() : null;
    try {
      return await body(daemon);
    } catch (err) {
      log(`phase ${name} failed: ${err.stack ?? err}`);
      results.failedPhases.push(name);
      return null;
    } finally {
      await daemon?.kill();
    }
  };
  /** @type {string[]} */
  let charts = [];
  const drawDeploy = async () => {
    if (!tools.vega || !tools['vega-lite']) return log('WARNING: no deploy charts: vega or vega-lite is not installed (see the warnings above)');
    try {
      charts = await writeDeployCharts(results.deploy, dirname(path), `${basename(path, '.json')}-`);
      for (const chart of charts) log(`chart: ${chart}`);
    } catch (err) {
      log(`WARNING: the deploy charts could not be rendered: ${err.stack ?? err}`);
    }
  };

  // First, before any server has run: nothing else of the bench's is on the CPU.
  results.startup = await phase('startup', async () => measureStartup({ bin, runs: PLAN.startup.runs, dir, log }), { pm2: false });
  save();

  results.throughput = await phase('throughput', (pm2Daemon) => runThroughput({
    ...PLAN.throughput, dir, pm2Daemon, autocannon: tools.autocannon, connections: CONNECTIONS, log,
  }));
  save();

  results.deploy = await phase('deploy', async (pm2Daemon) => {
    const out = [];
    for (const [index, app] of PLAN.deploy.apps.entries()) {
      const contenders = [overseer({ app, dir, workers: 'max', id: 'deploy-overseer' })];
      if (pm2Daemon) {
        contenders.push(
          pm2({ pm2: pm2Daemon, app, dir, mode: 'cluster', instances: 'max', id: `deploy-pm2-naive-${app}`, label: 'pm2 reload (cluster -i max, naive app)' }),
          pm2({ pm2: pm2Daemon, app, dir, mode: 'cluster', instances: 'max', graceful: true, id: `deploy-pm2-graceful-${app}`, label: 'pm2 reload (cluster -i max, graceful recipe)' }),
        );
      }
      contenders.push(bare({ app, dir, id: 'deploy-bare' }));
      contenders[0].label = 'overseer --workers max (SIGUSR2)';
      contenders[contenders.length - 1].label = 'bare node, kill + restart';
      if (index % 2 === 1) contenders.reverse(); // alternate the order between apps
      const rows = [];
      for (const contender of contenders) {
        log(`  ${app}: ${contender.label}`);
        const r = await deployUnderLoad({ contender, upgrades: PLAN.deploy.upgrades, ...DEPLOY, h2: isH2App(app) ? DEPLOY_H2 : undefined, log });
        log(`    ${r.failed ?? '?'} failed of ${r.total ?? '?'} ${JSON.stringify(r.failuresByKind)}; p99 in windows ${r.p99Inside} ms, outside ${r.p99Outside} ms`);
        rows.push(r);
      }
      out.push({ app, upgrades: PLAN.deploy.upgrades, ...DEPLOY, h2: isH2App(app) ? DEPLOY_H2 : null, rows });
    }
    return out;
  });
  save();
  if (results.deploy) await drawDeploy();

  results.upgradeTime = await phase('upgrade-time', async (pm2Daemon) => {
    const out = [];
    for (const bootMs of [0, 500]) {
      const contenders = [overseer({ app: 'hello', dir, workers: 'max', bootMs, id: `ut-overseer-${bootMs}` })];
      if (pm2Daemon) {
        contenders.push(
          pm2({ pm2: pm2Daemon, app: 'hello', dir, mode: 'cluster', instances: 'max', bootMs, id: `ut-pm2-naive-${bootMs}`, label: 'pm2 reload (cluster -i max, naive app)' }),
          pm2({ pm2: pm2Daemon, app: 'hello', dir, mode: 'cluster', instances: 'max', graceful: true, bootMs, id: `ut-pm2-graceful-${bootMs}`, label: 'pm2 reload (cluster -i max, graceful recipe)' }),
        );
      }
      contenders.push(bare({ app: 'hello', dir, bootMs, id: `ut-bare-${bootMs}` }));
      contenders[0].label = 'overseer --workers max (SIGUSR2)';
      contenders[contenders.length - 1].label = 'bare node, kill + restart';
      if (bootMs > 0) contenders.reverse();
      const rows = [];
      for (const contender of contenders) {
        const r = await measureUpgradeTime({ contender, upgrades: PLAN.upgradeTime.upgrades, log });
        log(`  boot ${bootMs} ms, ${contender.label}: median ${r.completeMs.median?.toFixed(0)} ms, max ${r.completeMs.max?.toFixed(0)} ms`);
        rows.push(r);
      }
      out.push({ bootMs, upgradesPlanned: PLAN.upgradeTime.upgrades, rows });
    }
    return out;
  });
  save();

  results.scale = await phase('scale', async (pm2Daemon) => {
    const out = [];
    for (const [index, workers] of PLAN.scale.workers.entries()) {
      const contenders = [overseer({ app: 'hello', dir, workers, id: `scale-overseer-${workers}` })];
      contenders[0].label = `overseer --workers ${workers} (SIGUSR2)`;
      if (pm2Daemon) contenders.push(pm2({ pm2: pm2Daemon, app: 'hello', dir, mode: 'cluster', instances: workers, id: `scale-pm2-${workers}`, label: `pm2 reload (cluster -i ${workers}, naive app)` }));
      if (index % 2 === 1) contenders.reverse();
      const rows = [];
      for (const contender of contenders) {
        const r = await measureUpgradeTime({ contender, upgrades: PLAN.scale.upgrades, log });
        log(`  ${workers} workers, ${contender.label}: median ${r.completeMs.median?.toFixed(0)} ms, failed ${r.failed} of ${r.total}`);
        rows.push(r);
      }
      out.push({ workers, upgradesPlanned: PLAN.scale.upgrades, rows });
    }
    return out;
  });
  save();

  results.drain = await phase('drain', async (pm2Daemon) => {
    const out = [];
    for (const connections of PLAN.drain.connections) {
      const contenders = [overseer({ app: 'hello', dir, workers: 1, id: `drain-overseer-${connections}` })];
      contenders[0].label = 'overseer --workers 1 (SIGUSR2)';
      if (pm2Daemon) contenders.push(pm2({ pm2: pm2Daemon, app: 'hello', dir, mode: 'cluster', instances: 1, id: `drain-pm2-${connections}`, label: 'pm2 reload (cluster -i 1, naive app)' }));
      const rows = [];
      for (const contender of contenders) {
        const r = await measureDrain({ contender, connections, log });
        log(`  ${connections} idle, ${contender.label}: old gone after ${r.upgradeMs?.toFixed(0)} ms, idle closed ${JSON.stringify(r.idleClosed)}, failed ${r.failed} of ${r.total}`);
        rows.push(r);
      }
      out.push({ connections, rows });
    }
    return { fdLimit: fdLimit(), runs: out };
  });
  save();

  results.selfHealing = await phase('self-healing', async () => {
    const o = PLAN.selfHealing;
    // A daemon of its own: PM2's memory check interval is set when the daemon starts.
    const daemon = tools.pm2 ? new Pm2(tools.pm2, { env: { PM2_WORKER_INTERVAL: String(o.pm2WorkerIntervalMs) } }) : null;
    try {
      const hang = [];
      for (const workers of [2, 1]) {
        const c = overseer({ app: 'heal', dir, workers, id: `hang-overseer-${workers}`, extraArgs: ['--hang-timeout', String(o.hangTimeoutMs)] });
        c.label = `overseer --workers ${workers} --hang-timeout ${o.hangTimeoutMs}`;
        const r = await measureHang({ contender: c, detects: true, windowMs: o.hangTimeoutMs + 10_000, log });
        log(`  ${c.label}: detected ${r.detectMs?.toFixed(0)} ms, replacement serves ${r.replacementServesMs?.toFixed(0)} ms, failed ${r.failed} of ${r.total}`);
        hang.push(r);
      }
      if (daemon) {
        const c = pm2({ pm2: daemon, app: 'heal', dir, mode: 'cluster', instances: 2, id: 'hang-pm2', label: 'pm2 (cluster -i 2): no hang detection' });
        const r = await measureHang({ contender: c, detects: false, windowMs: o.hangTimeoutMs + 3000, log });
        log(`  ${c.label}: replaced ${r.replaced}, failed ${r.failed} of ${r.total}`);
        hang.push(r);
      }
      const memory = [];
      const contenders = [overseer({ app: 'heal', dir, workers: 2, id: 'mem-overseer', extraArgs: ['--max-memory', o.maxMemory] })];
      contenders[0].label = `overseer --workers 2 --max-memory ${o.maxMemory}`;
      if (daemon) {
        for (const graceful of [false, true]) {
          contenders.push(pm2({ pm2: daemon, app: 'heal', dir, mode: 'cluster', instances: 2, graceful, id: `mem-pm2-${graceful ? 'graceful' : 'naive'}`, label: `pm2 max_memory_restart ${o.maxMemory} (cluster -i 2, ${graceful ? 'graceful recipe' : 'naive app'})`, extra: { max_memory_restart: o.maxMemory } }));
        }
      }
      for (const contender of contenders) {
        const r = await measureRecycle({ contender, recycles: o.recycles, growMb: o.growMb, timeoutMs: 40_000, log });
        log(`  ${contender.label}: ${r.recycles} recycle(s), gone after ${r.goneMs.median?.toFixed(0)} ms (median), failed ${r.failed} of ${r.total}`);
        memory.push(r);
      }
      return { ...o, hang, memory };
    } finally {
      await daemon?.kill();
    }
  }, { pm2: false });
  save();

  results.footprint = await phase('footprint', async (pm2Daemon) => {
    const contenders = [overseer({ app: 'hello', dir, workers: 'max', id: 'fp-overseer' })];
    contenders[0].label = 'overseer master (--workers max)';
    if (pm2Daemon) contenders.push(pm2({ pm2: pm2Daemon, app: 'hello', dir, mode: 'cluster', instances: 'max', id: 'fp-pm2', label: 'PM2 daemon (cluster -i max)' }));
    const rows = [];
    for (const contender of contenders) {
      const r = await measureFootprint({ contender, upgrades: PLAN.footprint.upgrades, log });
      log(`  ${contender.label}: RSS ${r.idle?.rssKb} (settled ${r.idleSettled?.rssKb}) → ${r.after?.rssKb} (settled ${r.afterSettled?.rssKb}) KiB, fds ${r.idle?.fds} → ${r.after?.fds}`);
      rows.push(r);
    }
    return { upgradesPlanned: PLAN.footprint.upgrades, rows };
  });
  save();

  results.selfUpgrade = await phase('self-upgrade', async (pm2Daemon) => {
    const { workers, load } = SELF_UPGRADE;
    const contenders = [overseer({ app: 'hello', dir, workers, id: 'self-overseer' })];
    contenders[0].label = `overseer upgrade --self (--workers ${workers})`;
    if (pm2Daemon) contenders.push(pm2({ pm2: pm2Daemon, app: 'hello', dir, mode: 'cluster', instances: workers, id: 'self-pm2', label: `pm2 update (cluster -i ${workers}, naive app)` }));
    const rows = [];
    for (const contender of contenders) {
      log(`  ${contender.label}`);
      const r = await measureSelfUpgrade({ contender, upgrades: PLAN.selfUpgrade.upgrades, load, log });
      log(`  ${contender.label}: ${r.upgrades} done, CLI exit median ${r.cliMs.median?.toFixed(0)} ms, old gone median ${r.oldGoneMs.median?.toFixed(0)} ms, failed ${r.failed} of ${r.total}`);
      rows.push(r);
    }
    return { upgradesPlanned: PLAN.selfUpgrade.upgrades, workers, load, rows };
  });
  save();

  process.stdout.write(`\n${formatReport(results)}\n\nresults: ${path}\n${charts.map((c) => `chart: ${c}\n`).join('')}`);
  return results.failedPhases.length === 0;
}

let ok = false;
try {
  ok = await main();
} catch (err) {
  log(`bench failed: ${err.stack ?? err}`);
} finally {
  await cleanup();
  clearTimeout(deadline);
  log(`done in ${((now() - T0) / 1000).toFixed(0)} s; every process the bench started is stopped`);
}
process.exit(ok ? 0 : 1);
