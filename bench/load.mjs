/**
 * Drives bench/load-client.mjs (HTTP/1.1) or bench/h2-load-client.mjs
 * (HTTP/2, with `h2`), forked, over IPC: the clients that record every
 * request they send exactly once, with the failure kind and the version that
 * answered. The HTTP/2 client reports no latency figures.
 *
 * Contracts:
 * - `toClient(ms)` / `toBench(ms)` convert between this process's clock
 *   (`now()`) and the client's "ms since client start", calibrated once from
 *   a snapshot round trip (error: half the round trip, well under 1 ms on
 *   loopback IPC).
 * - `stop(windows)` sends the windows (bench clock, [start, end] pairs) so
 *   the report splits latency inside/outside them, stops the client, and
 *   resolves with its report. Every wait has a deadline.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR } from './deps.mjs';
import { delay, now, track, untrack } from './procs.mjs';

const CLIENT = join(BENCH_DIR, 'load-client.mjs');
const H2_CLIENT = join(BENCH_DIR, 'h2-load-client.mjs');

/**
 * @param {string} url
 * @param {{ keepalive: number, fresh: number, durationMs: number, timeoutMs?: number, h2?: { sessions: number, streams: number } }} options
 */
export async function startLoad(url, { keepalive, fresh, durationMs, timeoutMs = 10_000, h2 }) {
  const shape = h2
    ? ['--sessions', String(h2.sessions), '--streams', String(h2.streams)]
    : ['--keepalive', String(keepalive), '--fresh', String(fresh)];
  const proc = fork(h2 ? H2_CLIENT : CLIENT, [
    '--url', url,
    ...shape,
    '--duration-ms', String(durationMs),
    '--timeout-ms', String(timeoutMs),
    '--max-requests', '10000000', // the client's default (500 000) is reached in ~20 s on hello
  ], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  track(proc.pid);
  // A send on a channel the client has just closed (it reported and left)
  // surfaces here; the pending call fails on its own deadline or on 'exit'.
  proc.on('error', () => {});
  const exited = new Promise((resolve) => proc.once('exit', (code) => { untrack(proc.pid); resolve(code); }));
  const report = new Promise((resolve, reject) => {
    proc.on('message', (m) => { if (m?.type === 'report') resolve(m.report); });
    exited.then((code) => reject(new Error(`load client exited (${code}) without a report`)));
  });
  report.catch(() => {});
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('load client did not start within 10 s')), 10_000);
    proc.on('message', (m) => { if (m?.type === 'started') { clearTimeout(timer); resolve(); } });
    exited.then((code) => { clearTimeout(timer); reject(new Error(`load client exited (${code}) before starting`)); });
  });

  /** @returns {Promise<{ total: number, ok: number, failed: number, versions: Record<string, number>, elapsedMs: number }>} */
  const snapshot = () => new Promise((resolve, reject) => {
    if (!proc.connected) return reject(new Error('the load client has stopped (channel closed)'));
    const onMessage = (m) => { if (m?.type === 'snapshot') { clearTimeout(timer); proc.off('message', onMessage); resolve(m.snapshot); } };
    const timer = setTimeout(() => { proc.off('message', onMessage); reject(new Error('no snapshot from the load client within 10 s')); }, 10_000);
    proc.on('message', onMessage);
    proc.send({ type: 'snapshot' });
  });

  // Clock calibration: the client's elapsedMs was taken between our send and receive.
  const t0 = now();
  const first = await snapshot();
  const offset = (t0 + now()) / 2 - first.elapsedMs;

  return {
    pid: proc.pid,
    snapshot,
    /** @param {number} benchMs */
    toClient: (benchMs) => benchMs - offset,
    /** @param {number} clientMs */
    toBench: (clientMs) => clientMs + offset,
    /**
     * Resolves once `version` has answered `minCount` more requests than when called.
     * @param {string} version @param {{ minCount?: number, timeoutMs?: number }} [options]
     */
    async waitForVersion(version, { minCount = 20, timeoutMs = 20_000 } = {}) {
      const base = (await snapshot()).versions[version] ?? 0;
      const deadline = now() + timeoutMs;
      for (;;) {
        const snap = await snapshot();
        if ((snap.versions[version] ?? 0) - base >= minCount) return snap;
        if (now() > deadline) throw new Error(`version ${version} not seen ${minCount} more times within ${timeoutMs} ms: ${JSON.stringify(snap)}`);
        await delay(10); // polling interval between snapshots
      }
    },
    /**
     * @param {Array<[number, number]>} [windows] bench-clock windows
     * @returns {Promise<any>} the client's report
     */
    async stop(windows = []) {
      if (proc.connected) {
        proc.send({ type: 'windows', windows: windows.map(([a, b]) => [a - offset, b - offset]) });
        proc.send({ type: 'stop' });
      }
      const deadline = setTimeout(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); }, timeoutMs + 10_000);
      try {
        return await report;
      } finally {
        clearTimeout(deadline);
      }
    },
  };
}
