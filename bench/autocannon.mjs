/**
 * One throughput measurement: N keep-alive connections hammering a URL for a
 * fixed time, in a process of its own.
 *
 * Contracts:
 * - With autocannon installed: `autocannon -c N -d S --json`; req/s is its
 *   total over its measured duration, p99 its latency p99 (whole ms:
 *   autocannon's resolution), errors = errors + timeouts + non-2xx.
 * - Without it: bench/load-client.mjs with N keep-alive loops; req/s is
 *   total / duration, p99 to 0.1 ms. The result says which tool measured it.
 * - Bounded: the child is SIGKILLed at duration + 20 s.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR } from './deps.mjs';
import { track, untrack } from './procs.mjs';

/**
 * @param {string} entry script to run with node
 * @param {string[]} args
 * @param {number} timeoutMs
 * @returns {Promise<string>} stdout
 */
function runNode(entry, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [entry, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${entry} failed: ${err.message.split('\n')[0]} ${String(stderr).slice(-300)}`));
      else resolve(stdout);
    });
    track(child.pid);
    child.once('exit', () => untrack(child.pid));
  });
}

/**
 * @param {{ version: string, entry: string } | null} autocannon
 * @param {string} url
 * @param {{ connections: number, durationS: number }} options
 * @returns {Promise<{ tool: string, rps: number, p99: number, errors: number, total: number }>}
 */
export async function measure(autocannon, url, { connections, durationS }) {
  const timeoutMs = durationS * 1000 + 20_000;
  if (autocannon) {
    const out = await runNode(autocannon.entry, ['-c', String(connections), '-d', String(durationS), '--json', url], timeoutMs);
    const r = JSON.parse(out.slice(out.indexOf('{')));
    return {
      tool: `autocannon ${autocannon.version}`,
      rps: r.requests.total / r.duration,
      p99: r.latency.p99,
      errors: (r.errors ?? 0) + (r.timeouts ?? 0) + (r.non2xx ?? 0),
      total: r.requests.total,
    };
  }
  const out = await runNode(join(BENCH_DIR, 'load-client.mjs'), ['--url', url, '--keepalive', String(connections), '--fresh', '0', '--duration-ms', String(durationS * 1000)], timeoutMs);
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}');
  return { tool: 'load-client', rps: r.total / (r.durationMs / 1000), p99: r.latencyMs.p99, errors: r.failed, total: r.total };
}
