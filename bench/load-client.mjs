#!/usr/bin/env node
/**
 * Loopback HTTP load client that accounts for every request it sends.
 *
 * Used by integration tests and benchmarks to prove "zero failed requests
 * during an upgrade". No dependencies beyond node: built-ins.
 *
 * CLI:
 *   node bench/load-client.mjs --url http://127.0.0.1:PORT/path
 *     [--keepalive 4] [--fresh 2] [--duration-ms 10000] [--max-requests 500000]
 *     [--timeout-ms 10000]
 *
 * Contracts:
 * - Only loopback targets (127.0.0.0/8, localhost, ::1), over http: or https:
 *   (self-signed certificates accepted). Bad
 *   arguments print one line on stderr and exit with code 2.
 * - Every request is recorded exactly once, as OK (2xx status and body read
 *   to the end) or as a failure of one kind: the error's `code`, `timeout`,
 *   `status-<n>`, or `error:<message>`. Requests are never retried.
 * - The final report is ONE JSON line on stdout; exit code is 0 whatever the
 *   failure count (the caller judges).
 * - IPC (when forked): in `stop`, `snapshot`, `windows`; out `started`,
 *   `snapshot`, `report`. After `report` the channel is disconnected.
 * - All times are ms since client start, rounded to 0.1 ms. Latency figures
 *   cover every request (OK and failed) from send to settle.
 * - `timeline` in the report (bench/timeline.mjs): answered per version and
 *   failed per kind per 100 ms, p99 latency per second; bounded by the run's
 *   duration, for the bench's deploy charts.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { ClientLife, parseClientArgs } from './client-life.mjs';
import { Timeline } from './timeline.mjs';

const T0 = performance.now();
/** @returns {number} ms since client start, unrounded */
const now = () => performance.now() - T0;
/** @param {number} ms @returns {number} rounded to 0.1 ms */
const r1 = (ms) => Math.round(ms * 10) / 10;

/**
 * Parse and validate the command line (client-life.mjs).
 * @returns {{ url: URL, keepalive: number, fresh: number, durationMs: number,
 *   maxRequests: number, timeoutMs: number }}
 */
function parseCli() {
  const { counts, usageError, ...common } = parseClientArgs('load-client', { keepalive: ['4', 0, 1000], fresh: ['2', 0, 1000] });
  const opts = { ...common, keepalive: counts.keepalive ?? 0, fresh: counts.fresh ?? 0 };
  if (opts.keepalive + opts.fresh === 0) usageError('need at least one loop (--keepalive or --fresh > 0)');
  return opts;
}

/** Growable pair of Float64Arrays: request start time and duration, in ms. */
class Samples {
  n = 0;
  start = new Float64Array(4096);
  dur = new Float64Array(4096);
  /** @param {number} startMs @param {number} durMs */
  push(startMs, durMs) {
    if (this.n === this.start.length) {
      const grow = (a) => { const b = new Float64Array(a.length * 2); b.set(a); return b; };
      [this.start, this.dur] = [grow(this.start), grow(this.dur)];
    }
    this.start[this.n] = startMs;
    this.dur[this.n++] = durMs;
  }
}

/**
 * Nearest-rank percentile of an ascending-sorted array.
 * @param {Float64Array} sorted @param {number} p in (0, 1]
 * @returns {number | null}
 */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return r1(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]);
}

/** @param {Float64Array} values unsorted; sorted in place */
function summarize(values) {
  values.sort();
  return { count: values.length, p50: percentile(values, 0.5), p99: percentile(values, 0.99), max: values.length ? r1(values[values.length - 1]) : null };
}

const opts = parseCli();
const client = opts.url.protocol === 'https:' ? https : http;

const stats = {
  ok: 0,
  failed: 0,
  inFlight: 0,
  issued: 0,
  /** @type {Record<string, number>} */ failuresByKind: {},
  byLoop: { keepalive: { total: 0, failed: 0 }, fresh: { total: 0, failed: 0 } },
  /** @type {Record<string, number>} */ versions: {},
  /** @type {Record<string, { firstMs: number, lastMs: number }>} */ versionSpans: {},
  /** @type {Array<{ atMs: number, loop: string, kind: string, message: string }>} */ errors: [],
};
const samples = new Samples();
const timeline = new Timeline();
/** @type {Array<[number, number]>} caller-supplied [startMs, endMs] windows */
let windows = [];

/**
 * Send one GET and settle with its outcome. Never rejects.
 * @param {http.Agent | false} agent
 * @param {Record<string, string>} headers
 * @returns {Promise<{ ok: true, version: string } | { ok: false, kind: string, message: string }>}
 */
function requestOnce(agent, headers) {
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const settle = (outcome) => {
      if (!settled) { settled = true; clearTimeout(timer); resolve(outcome); }
    };
    const fail = (err) => {
      const kind = timedOut ? 'timeout' : err.code ? String(err.code) : `error:${String(err.message).slice(0, 40)}`;
      settle({ ok: false, kind, message: String(err.message) });
    };
    // Loopback test servers use self-signed certificates.
    const req = client.request(opts.url, { method: 'GET', agent, headers, rejectUnauthorized: false }, (res) => {
      let head = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk) => { if (head.length < 256) head += chunk; });
      res.on('error', fail);
      res.on('end', () => {
        ended = true;
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return settle({ ok: false, kind: `status-${status}`, message: `HTTP ${status}` });
        const header = res.headers['x-version'];
        const version = (Array.isArray(header) ? header[0] : header) || head.trim().split(/\s+/)[0] || 'unknown';
        settle({ ok: true, version });
      });
      res.on('close', () => {
        if (!ended) fail(Object.assign(new Error('response closed before end of body'), { code: 'ECONNRESET' }));
      });
    });
    timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error(`no complete response within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', fail);
    req.end();
  });
}

/**
 * Record one settled request.
 * @param {'keepalive' | 'fresh'} loop @param {number} startMs @param {Awaited<ReturnType<typeof requestOnce>>} outcome
 */
function record(loop, startMs, outcome) {
  const endMs = now();
  samples.push(r1(startMs), endMs - startMs);
  timeline.record(endMs, endMs - startMs, outcome);
  stats.byLoop[loop].total++;
  if (outcome.ok) {
    stats.ok++;
    const v = outcome.version;
    stats.versions[v] = (stats.versions[v] ?? 0) + 1;
    const span = (stats.versionSpans[v] ??= { firstMs: r1(endMs), lastMs: r1(endMs) });
    span.lastMs = r1(endMs);
  } else {
    stats.failed++;
    stats.byLoop[loop].failed++;
    stats.failuresByKind[outcome.kind] = (stats.failuresByKind[outcome.kind] ?? 0) + 1;
    if (stats.errors.length < 20) stats.errors.push({ atMs: r1(endMs), loop, kind: outcome.kind, message: outcome.message });
  }
}

/**
 * One traffic loop: request after request until stop or the request budget
 * is spent. The first request is issued synchronously on call.
 * @param {'keepalive' | 'fresh'} loop @param {http.Agent | false} agent
 */
async function runLoop(loop, agent) {
  /** @type {Record<string, string>} */
  const headers = loop === 'fresh' ? { connection: 'close' } : {};
  while (!life.stopping) {
    if (stats.issued >= opts.maxRequests) return life.stop();
    stats.issued++;
    stats.inFlight++;
    const startMs = now();
    const outcome = await requestOnce(agent, headers);
    stats.inFlight--;
    record(loop, startMs, outcome);
  }
}

/** @returns {{ total: number, ok: number, failed: number, inFlight: number, versions: Record<string, number>, elapsedMs: number }} */
function snapshot() {
  return { total: stats.ok + stats.failed, ok: stats.ok, failed: stats.failed, inFlight: stats.inFlight, versions: { ...stats.versions }, elapsedMs: r1(now()) };
}

/** Build the final report. A request is "inside" when [start, end] overlaps any window. */
function buildReport() {
  const n = samples.n;
  const overall = summarize(samples.dur.slice(0, n));
  let insideWindows = null;
  let outsideWindows = null;
  if (windows.length > 0) {
    const inside = [];
    const outside = [];
    for (let i = 0; i < n; i++) {
      const s = samples.start[i];
      const e = s + samples.dur[i];
      (windows.some(([a, b]) => s <= b && e >= a) ? inside : outside).push(samples.dur[i]);
    }
    const part = (arr) => { const { count, p99 } = summarize(Float64Array.from(arr)); return { p99, count }; };
    insideWindows = part(inside);
    outsideWindows = part(outside);
  }
  return {
    total: stats.ok + stats.failed,
    ok: stats.ok,
    failed: stats.failed,
    failuresByKind: stats.failuresByKind,
    byLoop: stats.byLoop,
    versions: stats.versions,
    versionSpans: stats.versionSpans,
    latencyMs: { p50: overall.p50, p99: overall.p99, max: overall.max, insideWindows, outsideWindows },
    errors: stats.errors,
    timeline: timeline.toJSON(),
    durationMs: r1(now()),
  };
}

/** @type {import('node:http').Agent[]} */
const agents = [];
const life = new ClientLife({
  durationMs: opts.durationMs,
  timeoutMs: opts.timeoutMs,
  buildReport,
  snapshot,
  inFlight: () => stats.inFlight,
  close: () => { for (const agent of agents) agent.destroy(); },
  onMessage: (msg) => {
    if (msg.type === 'windows' && Array.isArray(msg.windows)) {
      windows = msg.windows.filter((/** @type {any} */ w) => Array.isArray(w) && Number.isFinite(w[0]) && Number.isFinite(w[1])).map((/** @type {any} */ [a, b]) => [Number(a), Number(b)]);
    }
  },
});
life.start(() => {
  const loops = [];
  for (let i = 0; i < opts.keepalive; i++) {
    const agent = new client.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    agents.push(agent);
    loops.push(runLoop('keepalive', agent));
  }
  for (let i = 0; i < opts.fresh; i++) loops.push(runLoop('fresh', false));
  return loops;
});
