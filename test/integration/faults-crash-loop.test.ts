/**
 * Fault suite: a crash loop, judged by what happened rather than by what the
 * master planned. The intervals between the real spawns grow, the master stays
 * up and keeps the port bound even while no worker exists, and a later good
 * upgrade ends the loop.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { type LogEvent, baseArgs, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';
import { canBind, childPids, isGone } from '../helpers/procfs.js';

/** Opens a TCP connection and closes it; resolves with the error code, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const BASE_DELAY_MS = 200;
const SPAWNS = 5;

describe('fault: crash loop', () => {
  it('spaces the real restarts further and further apart, keeps the port, and recovers on a good upgrade', async () => {
    // Listens, then exits 20 ms later: every start fails, forever.
    const app = makeApp('v1', 'crash-after-start');
    const master = startMaster(baseArgs(app.script, '--restart-delay', String(BASE_DELAY_MS), '--restart-delay-max', '10000'));
    const port = await master.port();

    const spawned: LogEvent[] = [];
    let gapChecked = false;
    for (let i = 0; i < SPAWNS; i++) {
      const after = spawned.length ? master.events.indexOf(spawned.at(-1)!) + 1 : 0;
      const worker = await master.waitFor('worker.spawned', (e) => e.generation === 1, { after });
      spawned.push(worker);
      if (i === 2) {
        // In the gap before the 4th start (scheduled 800 ms out), no worker
        // exists at all: the master alone holds the port, and a client that
        // connects is queued in its backlog, not refused.
        await master.waitFor('worker.exited', (e) => e.workerId === worker.workerId);
        await master.waitFor('worker.restart-scheduled', undefined, { after: master.events.indexOf(worker) });
        const spawnsBefore = master.count('worker.spawned');
        expect(isGone(worker.pid as number)).toBe(true);
        expect(childPids(master.pid)).toEqual([]);
        expect(await canBind(port)).toBe(false);
        expect(await tryConnect(port)).toBe('connected');
        // Only valid if the next worker had not started meanwhile.
        expect(master.count('worker.spawned')).toBe(spawnsBefore);
        gapChecked = true;
      }
    }
    expect(gapChecked).toBe(true);

    // The intervals the master really left between starts (its own log
    // timestamps), next to the delays it scheduled.
    const times = spawned.map((e) => e.time as number);
    const intervals = times.slice(1).map((t, i) => t - times[i]!);
    const scheduled = master.events.filter((e) => e.event === 'worker.restart-scheduled').slice(0, SPAWNS - 1).map((e) => e.delayMs as number);
    expect(scheduled).toEqual([200, 400, 800, 1600]);
    for (let i = 0; i < intervals.length; i++) {
      // A start happens no sooner than its delay after the previous crash.
      expect(intervals[i]).toBeGreaterThanOrEqual(scheduled[i]!);
      if (i > 0) expect(intervals[i]).toBeGreaterThan(intervals[i - 1]!);
    }
    // Backoff, not a steady retry rate: the last gap is several times the first.
    expect(intervals.at(-1)!).toBeGreaterThan(3 * intervals[0]!);

    expect(isAlive(master.pid)).toBe(true);
    expect(master.count('master.stopping')).toBe(0);
    expect(await canBind(port)).toBe(false);

    // A good version ends the loop.
    app.deploy('v2');
    const mark = master.events.length;
    process.kill(master.pid, 'SIGUSR2');
    const done = await master.upgraded(mark);
    expect(done.generation).toBe(2);
    const url = await master.url();
    for (let i = 0; i < 5; i++) expect(await getVersion(url)).toBe('v2');
    const [pid] = done.pids as number[];
    expect(isAlive(pid!)).toBe(true);
    expect(childPids(master.pid)).toEqual([pid]);
    expect(isAlive(master.pid)).toBe(true);
  });
});
