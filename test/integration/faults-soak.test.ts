/**
 * Fault suite: a soak. Fifty upgrades back to back under light load; the
 * master must not leak: its open descriptors and resident memory, measured by
 * the OS after a warm-up and again at the end, do not grow.
 */
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { startLoad } from '../helpers/load.js';
import { type MasterRun, baseArgs, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';
import { childPids, fdCount, rssBytes } from '../helpers/procfs.js';

const WARM_UP = 5;
const UPGRADES = 50;
const MB = 1024 * 1024;

/** Upgrades to `version` and waits for upgrade.succeeded (not for the drain). */
async function upgrade(master: MasterRun, deploy: () => void): Promise<number> {
  deploy();
  const mark = master.events.length;
  process.kill(master.pid, 'SIGUSR2');
  const done = await master.waitFor('upgrade.succeeded', undefined, { after: mark });
  return done.generation as number;
}

/** The master's fds and RSS once every worker but the current one has exited. */
async function measure(master: MasterRun): Promise<{ fds: number; rss: number }> {
  const last = master.events.filter((e) => e.event === 'upgrade.succeeded').at(-1)!;
  await master.upgraded(master.events.indexOf(last));
  expect(childPids(master.pid)).toEqual(last.pids);
  return { fds: fdCount(master.pid), rss: rssBytes(master.pid) };
}

describe('fault: soak', () => {
  it(`${UPGRADES} upgrades back to back: the master's fd count and RSS do not grow, zero failed requests`, async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '1'));
    await master.waitFor('master.ready');
    // Light load: one keep-alive loop. Each drain tells it `Connection: close`,
    // so it also opens a new connection per upgrade; a new-connection loop
    // would double the test's run time on 2 busy cores for nothing more.
    const load = await startLoad(await master.url(), { keepalive: 1, fresh: 0 });
    await load.waitForVersion('v1');

    let generation = 1;
    for (let i = 0; i < WARM_UP; i++) {
      const version = `v${generation + 1}`;
      expect(await upgrade(master, () => app.deploy(version))).toBe(++generation);
    }
    const start = await measure(master);

    for (let i = 0; i < UPGRADES; i++) {
      const version = `v${generation + 1}`;
      expect(await upgrade(master, () => app.deploy(version))).toBe(++generation);
    }
    const end = await measure(master);
    const lastVersion = `v${generation}`;
    await load.waitForVersion(lastVersion);
    const report = await load.stop();

    expect(end.fds - start.fds, `fds ${start.fds} → ${end.fds}`).toBeLessThanOrEqual(2);
    expect(end.rss - start.rss, `RSS ${(start.rss / MB).toFixed(1)} → ${(end.rss / MB).toFixed(1)} MB`).toBeLessThan(10 * MB);

    expect(master.count('upgrade.failed')).toBe(0);
    expect(master.count('drain.finished', (e) => e.forced !== undefined)).toBe(0);
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.versions[lastVersion]).toBeGreaterThan(0);
    expect(isAlive(master.pid)).toBe(true);
  });
});
