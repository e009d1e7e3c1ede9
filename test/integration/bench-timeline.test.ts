/**
 * The load clients' timeline (what the bench's deploy charts draw): every
 * request they account for is in it exactly once, in its 100 ms bucket, by
 * the version that answered or by its failure kind, and every second with
 * requests has a p99. Real clients against a real server on 127.0.0.1:0
 * that fails one request in 7 with a 503.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startH2Load } from '../helpers/h2-load.js';
import { startLoad } from '../helpers/load.js';
import { onCleanup } from '../helpers/processes.js';

interface Timeline {
  bucketMs: number;
  answered: Array<[number, string, number]>;
  failed: Array<[number, string, number]>;
  p99: Array<[number, number, number]>;
}

/** Answers `v1` with 200, except every 7th request: 503. */
function handler(): (req: unknown, res: http.ServerResponse | http2.Http2ServerResponse) => void {
  let n = 0;
  return (_req, res) => {
    res.setHeader('x-version', 'v1');
    res.statusCode = ++n % 7 === 0 ? 503 : 200;
    res.end('v1\n');
  };
}

async function listen(server: http.Server | http2.Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

function expectConsistent(timeline: Timeline, report: { ok: number; failed: number; failuresByKind: Record<string, number> }): void {
  const sum = (rows: Array<[number, string, number]>) => rows.reduce((a, [, , n]) => a + n, 0);
  expect(report.failed).toBeGreaterThan(0);
  expect(sum(timeline.answered)).toBe(report.ok);
  expect(timeline.answered.every(([, version]) => version === 'v1')).toBe(true);
  expect(sum(timeline.failed)).toBe(report.failed);
  expect(Object.fromEntries(timeline.failed.reduce((m, [, kind, n]) => m.set(kind, (m.get(kind) ?? 0) + n), new Map<string, number>()))).toEqual(report.failuresByKind);
  expect(timeline.answered.every(([ms]) => ms % timeline.bucketMs === 0)).toBe(true);
  expect(timeline.p99.reduce((a, [, , n]) => a + n, 0)).toBe(report.ok + report.failed);
  expect(timeline.p99.every(([, ms]) => ms > 0 && ms < 5000)).toBe(true);
}

describe('load clients: timeline for the deploy charts', () => {
  it('HTTP/1.1 (bench/load-client.mjs)', async () => {
    const port = await listen(http.createServer(handler()));
    const load = await startLoad(`http://127.0.0.1:${port}/`, { keepalive: 4, fresh: 1 });
    await load.waitForVersion('v1', { minCount: 500 });
    const report = (await load.stop()) as Awaited<ReturnType<typeof load.stop>> & { timeline: Timeline };
    expect(report.failuresByKind).toEqual({ 'status-503': report.failed });
    expectConsistent(report.timeline, report);
  });

  it('HTTP/2 (bench/h2-load-client.mjs)', async () => {
    const port = await listen(http2.createServer(handler()));
    const load = await startH2Load(`http://127.0.0.1:${port}/`, { sessions: 2, streams: 4 });
    await load.waitForVersion('v1', { minCount: 500 });
    const report = (await load.stop()) as Awaited<ReturnType<typeof load.stop>> & { timeline: Timeline };
    expect(report.failuresByKind).toEqual({ 'status-503': report.failed });
    expectConsistent(report.timeline, report);
  });
});
