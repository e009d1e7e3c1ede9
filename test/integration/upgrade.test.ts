/**
 * The promise of overseer, end to end: a real master, a real app, a load
 * client in its own process sending keep-alive and new-connection traffic,
 * and repeated upgrades to alternating versions. Not one request may fail.
 */
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { startLoad } from '../helpers/load.js';
import { baseArgs, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';

const UPGRADES = 6;

describe('upgrade under load', () => {
  it(`serves every request across ${UPGRADES} upgrades with alternating versions`, async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2', '--drain-timeout', '10000'));
    await master.waitFor('master.ready');
    const load = await startLoad(await master.url(), { keepalive: 6, fresh: 3 });
    await load.waitForVersion('v1');

    for (let i = 1; i <= UPGRADES; i++) {
      const version = i % 2 === 1 ? 'v2' : 'v1';
      app.deploy(version);
      const mark = master.events.length;
      process.kill(master.pid, i % 2 === 1 ? 'SIGUSR2' : 'SIGHUP');
      const done = await master.waitFor('upgrade.succeeded', undefined, { after: mark });
      expect(done.generation).toBe(i + 1);
      // Several thousand requests per version: the load runs for seconds.
      await load.waitForVersion(version, { minCount: 5000 });
    }
    const report = await load.stop();
    expect(report.durationMs).toBeGreaterThan(2000);

    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.total).toBeGreaterThan(1000);
    expect(report.byLoop.keepalive.total).toBeGreaterThan(0);
    expect(report.byLoop.fresh.total).toBeGreaterThan(0);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2']);

    // One master all along: same process, every event from the same pid.
    expect(isAlive(master.pid)).toBe(true);
    expect(master.count('master.started')).toBe(1);
    expect(new Set(master.events.map((e) => e.masterPid))).toEqual(new Set([master.pid]));
    expect(master.count('upgrade.failed')).toBe(0);

    // Every worker of the old generations drained and exited, none forced.
    const spawned = master.events.filter((e) => e.event === 'worker.spawned');
    const old = spawned.filter((e) => (e.generation as number) <= UPGRADES);
    expect(old).toHaveLength(2 * UPGRADES);
    for (const worker of old) {
      const finished = await master.waitFor('drain.finished', (e) => e.workerId === worker.workerId);
      expect(finished.forced).toBeUndefined();
      expect(isAlive(worker.pid as number)).toBe(false);
    }

    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
  });
});
