#!/usr/bin/env node
/**
 * Loopback HTTP/2 load client that accounts for every stream it opens.
 *
 * Used by integration tests and benchmarks to prove "zero failed streams
 * during an upgrade" for HTTP/2. No dependencies beyond node: built-ins.
 *
 * CLI:
 *   node bench/h2-load-client.mjs --url http://127.0.0.1:PORT/path
 *     [--sessions 4] [--streams 8] [--duration-ms 10000]
 *     [--max-requests 500000] [--timeout-ms 10000]
 *
 * Behaves like a client library that reuses connections as hard as it can:
 * - `--sessions` slots each hold one session (connection); `--streams` loops
 *   per slot send request after request on the slot's current session, so
 *   every session carries that many concurrent streams.
 * - A session that received GOAWAY (Node then marks it closed) or ended is
 *   replaced by a new one at the slot's next request: new streams go to a new
 *   connection, streams in flight finish on the old one.
 * - A stream the server refused (RST_STREAM REFUSED_STREAM, or above the
 *   last stream id of a GOAWAY: never processed, RFC 9113 §8.7) is retried on
 *   a new session, at most 3 times, and counted in `refused`.
 *
 * Contracts:
 * - Only loopback targets, over http: (h2c, prior knowledge) or https: (h2,
 *   self-signed certificates accepted). Bad arguments print one line on
 *   stderr and exit with code 2.
 * - Every request is recorded exactly once, as OK (2xx status and body read to
 *   the end) or as a failure of one kind: `timeout`, `status-<n>`, the
 *   connection's error code (`ECONNRESET`, …), or `rst-<code>` (the stream
 *   was reset with that HTTP/2 error code).
 * - The final report is ONE JSON line on stdout; exit code is 0 whatever the
 *   failure count (the caller judges).
 * - IPC (when forked): in `stop`, `snapshot`; out `started`, `snapshot`,
 *   `report`. After `report` the channel is disconnected.
 * - Times are ms since client start (`…Ms`) or since the epoch (`…At`).
 * - `timeline` in the report (bench/timeline.mjs): answered per version and
 *   failed per kind per 100 ms, p99 latency per second (from the first try
 *   of a request to its settling, retries included); bounded by the run's
 *   duration, for the bench's deploy charts.
 */
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { ClientLife, parseClientArgs } from './client-life.mjs';
import { Timeline } from './timeline.mjs';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;
const MAX_TRIES = 3;

const T0 = performance.now();
const now = () => performance.now() - T0;
const r1 = (ms) => Math.round(ms * 10) / 10;

/** Parse and validate the command line (client-life.mjs). */
function parseCli() {
  const { counts, usageError: _, ...common } = parseClientArgs('h2-load-client', { sessions: ['4', 1, 1000], streams: ['8', 1, 1000] });
  return { ...common, sessions: counts.sessions ?? 1, streams: counts.streams ?? 1 };
}

const opts = parseCli();
const stats = {
  ok: 0,
  failed: 0,
  refused: 0,
  inFlight: 0,
  issued: 0,
  sessionsOpened: 0,
  /** Sessions that received a GOAWAY. */
  goaways: 0,
  /** @type {Record<string, number>} */ failuresByKind: {},
  /** @type {Record<string, number>} */ sessionErrors: {},
  /** @type {Record<string, number>} */ versions: {},
  /** @type {Record<string, { firstMs: number, lastMs: number, firstAt: number, lastAt: number }>} */ versionSpans: {},
  /** @type {Array<{ atMs: number, kind: string, message: string }>} */ errors: [],
};
const timeline = new Timeline();

/** One connection slot: its current session, replaced once it can take no new stream. */
class Slot {
  /** @type {http2.ClientHttp2Session | undefined} */ session;
  /** @type {Set<http2.ClientHttp2Session>} */ all = new Set();

  /** @returns {http2.ClientHttp2Session} */
  current() {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const session = http2.connect(opts.url, { rejectUnauthorized: false });
    stats.sessionsOpened++;
    session.on('error', (err) => {
      const kind = err.code ? String(err.code) : 'error';
      stats.sessionErrors[kind] = (stats.sessionErrors[kind] ?? 0) + 1;
    });
    session.once('goaway', () => stats.goaways++);
    this.all.add(session);
    session.once('close', () => this.all.delete(session));
    this.session = session;
    return session;
  }

  close() {
    for (const s of this.all) s.close();
  }
}

/**
 * One GET on `session`. Never rejects.
 * @returns {Promise<{ ok: true, version: string } | { ok: false, refused: boolean, kind: string, message: string }>}
 */
function streamOnce(session) {
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let status = 0;
    let version = 'unknown';
    let ended = false;
    /** @type {Error | undefined} */ let streamError;
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    let stream;
    try {
      stream = session.request({ ':path': `${opts.url.pathname}${opts.url.search}` });
    } catch (err) {
      // Not sent: the session was closed under us (GOAWAY), retry elsewhere.
      const refused = err.code === 'ERR_HTTP2_GOAWAY_SESSION' || err.code === 'ERR_HTTP2_INVALID_SESSION';
      settle({ ok: false, refused, kind: String(err.code ?? 'error'), message: String(err.message) });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      stream.close(NGHTTP2_CANCEL);
    }, opts.timeoutMs);
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      const v = headers['x-version'];
      if (v) version = String(Array.isArray(v) ? v[0] : v);
    });
    stream.on('data', () => {});
    stream.on('end', () => { ended = true; });
    stream.on('error', (err) => { streamError = err; });
    stream.on('close', () => {
      if (timedOut) return settle({ ok: false, refused: false, kind: 'timeout', message: `no complete response within ${opts.timeoutMs} ms` });
      if (ended && stream.rstCode === 0) {
        if (status < 200 || status > 299) return settle({ ok: false, refused: false, kind: `status-${status}`, message: `HTTP ${status}` });
        return settle({ ok: true, version });
      }
      if (stream.rstCode === NGHTTP2_REFUSED_STREAM) return settle({ ok: false, refused: true, kind: 'refused', message: 'REFUSED_STREAM' });
      // A connection-level error (ECONNRESET, ECONNREFUSED) names the cause
      // better than the INTERNAL_ERROR code Node then gives the stream.
      // (A stream cancelled by a failed connection carries it as `cause`.)
      const code = streamError?.cause?.code ?? streamError?.code;
      const connectionError = code && code !== 'ERR_HTTP2_STREAM_ERROR' ? String(code) : undefined;
      const kind = connectionError ?? (stream.rstCode ? `rst-${stream.rstCode}` : 'closed-before-end');
      settle({ ok: false, refused: false, kind, message: String(streamError?.message ?? `stream closed (rstCode ${stream.rstCode})`) });
    });
    stream.end();
  });
}

/** Record one settled request. @param {number} startMs its first try */
function record(startMs, outcome) {
  const endMs = now();
  timeline.record(endMs, endMs - startMs, outcome);
  if (outcome.ok) {
    stats.ok++;
    const v = outcome.version;
    stats.versions[v] = (stats.versions[v] ?? 0) + 1;
    const at = Math.round(performance.timeOrigin + T0 + endMs);
    const span = (stats.versionSpans[v] ??= { firstMs: r1(endMs), lastMs: r1(endMs), firstAt: at, lastAt: at });
    span.lastMs = r1(endMs);
    span.lastAt = at;
  } else {
    stats.failed++;
    stats.failuresByKind[outcome.kind] = (stats.failuresByKind[outcome.kind] ?? 0) + 1;
    if (stats.errors.length < 20) stats.errors.push({ atMs: r1(endMs), kind: outcome.kind, message: outcome.message });
  }
}

/** One stream loop on a slot: request after request until stop or the budget is spent. */
async function runLoop(slot) {
  while (!life.stopping) {
    if (stats.issued >= opts.maxRequests) return life.stop();
    stats.issued++;
    stats.inFlight++;
    const startMs = now();
    let outcome;
    for (let tries = 1; ; tries++) {
      outcome = await streamOnce(slot.current());
      if (outcome.ok || !outcome.refused || tries === MAX_TRIES) break;
      stats.refused++;
    }
    stats.inFlight--;
    record(startMs, outcome);
  }
}

function snapshot() {
  return { total: stats.ok + stats.failed, ok: stats.ok, failed: stats.failed, refused: stats.refused, inFlight: stats.inFlight, versions: { ...stats.versions }, elapsedMs: r1(now()) };
}

function buildReport() {
  return {
    total: stats.ok + stats.failed,
    ok: stats.ok,
    failed: stats.failed,
    refused: stats.refused,
    sessionsOpened: stats.sessionsOpened,
    goaways: stats.goaways,
    failuresByKind: stats.failuresByKind,
    sessionErrors: stats.sessionErrors,
    versions: stats.versions,
    versionSpans: stats.versionSpans,
    errors: stats.errors,
    timeline: timeline.toJSON(),
    durationMs: r1(now()),
  };
}

/** @type {Slot[]} */
const slots = [];
const life = new ClientLife({
  durationMs: opts.durationMs,
  timeoutMs: opts.timeoutMs,
  buildReport,
  snapshot,
  inFlight: () => stats.inFlight,
  close: () => { for (const slot of slots) slot.close(); },
});
life.start(() => {
  const loops = [];
  for (let i = 0; i < opts.sessions; i++) {
    const slot = new Slot();
    slots.push(slot);
    for (let j = 0; j < opts.streams; j++) loops.push(runLoop(slot));
  }
  return loops;
});
