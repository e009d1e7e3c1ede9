/**
 * Phase drain (issue 12): an upgrade while the old worker holds many idle
 * keep-alive connections (each has had one request answered, then sits
 * idle), under a light load (2 keep-alive + 1 new-connection loops).
 *
 * Contracts:
 * - The idle connections are raw sockets opened by the bench process itself,
 *   `batch` at a time; each sends one GET and counts as open once its answer
 *   has started. The bench's fd limit must cover them (checked first: a
 *   count above the soft limit minus a margin is reported, not attempted).
 * - Measured: trigger → the old processes gone (the contender's `deploy`),
 *   how the idle connections ended (closed by the server with a FIN, or
 *   reset), the load's failed requests, and the supervisor's RSS and open
 *   fds before the connections were opened and after the upgrade.
 * - Every socket is destroyed and the contender stopped, whatever happens.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { stopContender } from './contenders.mjs';
import { startLoad } from './load.mjs';
import { fdCount, rssKb, waitUntil } from './procs.mjs';

/** @returns {number} this process's soft limit on open files (from the shell's `ulimit -n`) */
export function fdLimit() {
  const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? Infinity : Number(out) || 1024;
}

/**
 * @param {string} url @param {number} count @param {number} batch
 * @returns {Promise<{ sockets: net.Socket[], ended: { fin: number, reset: number } }>}
 */
async function openIdle(url, count, batch) {
  const { hostname, port } = new URL(url);
  const sockets = [];
  const ended = { fin: 0, reset: 0 };
  const one = () => new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    sockets.push(socket);
    let answered = false;
    let errored = false;
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}\r\nConnection: keep-alive\r\n\r\n`));
    socket.on('data', () => { if (!answered) { answered = true; resolve(); } });
    socket.on('error', () => { errored = true; if (!answered) reject(new Error('an idle connection failed while opening')); });
    socket.on('close', () => { if (answered) { if (errored) ended.reset++; else ended.fin++; } });
    socket.on('end', () => socket.end());
  });
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, one));
  }
  return { sockets, ended };
}

/**
 * @param {{ contender: any, connections: number, log: (l: string) => void }} options
 */
export async function measureDrain({ contender, connections, log }) {
  let load = null;
  let report = null;
  let error = null;
  let idle = null;
  let before = null;
  let after = null;
  let upgradeMs = null;
  /** @type {{ fin: number, reset: number, stillOpen: number } | null} */
  let idleClosed = null;
  const read = () => {
    const pid = contender.supervisorPid();
    return pid ? { rssKb: rssKb(pid), fds: fdCount(pid) } : null;
  };
  try {
    const limit = fdLimit();
    if (connections + 500 > limit) throw new Error(`not attempted: ${connections} connections need more than the fd limit of ${limit} (ulimit -n)`);
    await contender.start();
    before = read();
    idle = await openIdle(contender.url, connections, 500);
    load = await startLoad(contender.url, { keepalive: 2, fresh: 1, durationMs: 120_000, timeoutMs: 10_000 });
    await load.waitForVersion('v0', { minCount: 50 });
    const { triggerMs, doneMs } = await contender.deploy('v1');
    upgradeMs = doneMs - triggerMs;
    await load.waitForVersion('v1', { minCount: 50 });
    const ended = idle.ended;
    await waitUntil(() => ended.fin + ended.reset >= connections, { timeoutMs: 5000, intervalMs: 20, what: 'every idle connection to be closed' }).catch(() => {});
    idleClosed = { fin: ended.fin, reset: ended.reset, stillOpen: connections - ended.fin - ended.reset };
    after = read();
  } catch (err) {
    error = err.message;
    log(`  ${contender.label}: ${err.message}`);
  } finally {
    for (const socket of idle?.sockets ?? []) socket.destroy();
    if (load) {
      try { report = await load.stop(); } catch (err) { error ??= err.message; }
    }
    await stopContender(contender, log);
  }
  return {
    id: contender.id,
    label: contender.label,
    connections,
    upgradeMs,
    idleClosed,
    failed: report?.failed ?? null,
    total: report?.total ?? null,
    failuresByKind: report?.failuresByKind ?? {},
    before,
    after,
    error,
  };
}
