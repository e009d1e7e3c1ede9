/**
 * Fault suite: a signal storm. Twenty upgrade signals within about a second,
 * each after deploying a newer version, under keep-alive and new-connection
 * load: not one failed request, and at the end exactly one generation, of the
 * last version, with every other worker gone.
 */
import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { type LogEvent, baseArgs, startMaster } from '../helpers/master.js';
import { isAlive } from '../helpers/processes.js';
import { childPids, isGone } from '../helpers/procfs.js';

/**
 * What the master's log says about upgrade triggers. Each trigger it heard is
 * an `upgrade.coalesced` (an upgrade was running: a follow-up is now queued)
 * or an `upgrade.started` (none was). A queued follow-up also logs
 * `upgrade.started` when it begins, right as the run before it settles: that
 * one is not a new trigger. (Adding up both event counts over-counts.)
 */
function triggers(events: readonly LogEvent[]): { heard: number; followUpQueued: boolean } {
  let heard = 0;
  let followUpQueued = false;
  for (const e of events) {
    if (e.event === 'upgrade.coalesced') {
      heard++;
      followUpQueued = true;
    } else if (e.event === 'upgrade.started') {
      if (followUpQueued) followUpQueued = false;
      else heard++;
    }
  }
  return { heard, followUpQueued };
}

const WORKERS = 2;
const SIGNALS = 20;
const PACE_MS = 50;

describe('fault: signal storm', () => {
  it(`${SIGNALS} upgrade signals in about a second under load: zero failed, one final generation of the last version, no stray processes`, async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', String(WORKERS)));
    await master.waitFor('master.ready');
    const url = await master.url();
    const load = await startLoad(url, { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1');

    // Standard signals do not queue: two that are both pending when the
    // master next runs are delivered as one. So each signal is sent only
    // once the previous one was heard, and the sends are paced PACE_MS apart
    // (this paces the storm; it synchronises nothing).
    const heard = () => triggers(master.events).heard;
    const last = `v${SIGNALS + 1}`;
    const t0 = Date.now();
    for (let i = 1; i <= SIGNALS; i++) {
      app.deploy(`v${i + 1}`);
      process.kill(master.pid, 'SIGUSR2');
      await expect.poll(heard, { timeout: 10_000, interval: 1 }).toBe(i);
      const slot = t0 + i * PACE_MS - Date.now();
      if (slot > 0) await new Promise((resolve) => setTimeout(resolve, slot));
    }
    const stormMs = Date.now() - t0;

    // Settled once every upgrade that started has succeeded and no follow-up
    // is queued: the generation started by an early signal may already run
    // the last version while a follow-up is still to come, so seeing `last`
    // answer proves nothing. (The follow-up's `upgrade.started` is logged
    // just after the `upgrade.succeeded` before it, and may be read a moment
    // later: between the two, "last succeeded = every started" holds, which
    // is why the queued follow-up is checked too.)
    const settled = () => {
      const succeeded = master.events.filter((e) => e.event === 'upgrade.succeeded').at(-1);
      return !triggers(master.events).followUpQueued && succeeded?.generation === master.count('upgrade.started') + 1;
    };
    await expect.poll(settled, { timeout: 30_000, interval: 5 }).toBe(true);
    const final = master.events.filter((e) => e.event === 'upgrade.succeeded').at(-1)!;
    // Wait for every worker of the older generations to exit.
    await master.upgraded(master.events.indexOf(final));

    const before = await load.snapshot();
    await load.waitForVersion(last, { minCount: 300 });
    const report = await load.stop();

    expect(stormMs).toBeLessThan(2_000);
    expect(master.count('upgrade.failed')).toBe(0);
    // It was a storm: upgrades overlapped and coalesced.
    expect(master.count('upgrade.coalesced')).toBeGreaterThan(0);
    expect(master.count('upgrade.started')).toBeLessThan(SIGNALS);

    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    // Once the old workers were gone only the last version answered.
    for (const [version, n] of Object.entries(report.versions)) {
      if (version !== last) expect(n, version).toBe(before.versions[version]);
    }
    expect(report.versions[last]! - (before.versions[last] ?? 0)).toBeGreaterThanOrEqual(300);
    expect(await getVersion(url)).toBe(last);

    // Exactly --workers live workers, all of the final generation; every
    // other worker ever spawned is gone (reaped: kill(pid, 0) says ESRCH).
    const spawned = master.events.filter((e) => e.event === 'worker.spawned');
    const finalPids = spawned.filter((e) => e.generation === final.generation).map((e) => e.pid as number);
    expect(finalPids).toHaveLength(WORKERS);
    expect([...finalPids].sort()).toEqual([...(final.pids as number[])].sort());
    for (const pid of finalPids) expect(isAlive(pid)).toBe(true);
    const others = spawned.filter((e) => e.generation !== final.generation).map((e) => e.pid as number);
    expect(others.length).toBeGreaterThanOrEqual(WORKERS * 2);
    expect(others.filter((pid) => !isGone(pid))).toEqual([]);
    expect(childPids(master.pid)).toEqual([...finalPids].sort((a, b) => a - b));
    expect(isAlive(master.pid)).toBe(true);
  });
});
