/** Counters across a self-upgrade (carry.ts): the successor serves the predecessor's counts plus its own. */
import { describe, expect, it } from 'vitest';
import { carryInto, snapshotSeries } from '../../../../src/master/metrics/carry.js';
import { createSeries } from '../../../../src/master/metrics/series.js';

const sources = {
  workersByState: () => ({ starting: 0, live: 0, draining: 0, standby: 0 }),
  generation: () => 1,
  connections: () => [],
  memory: async () => [],
};

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series}`);
  return Number(line.slice(series.length + 1));
}

describe('carrying counters to a successor', () => {
  it('adds the predecessor\'s counters and histogram samples to the successor\'s own, and carries them on again', async () => {
    const before = createSeries(sources);
    before.requests.inc(120);
    before.upgrades.inc({ result: 'succeeded' }, 3);
    before.restarts.inc({ reason: 'crash' }, 2);
    before.upgradeDuration.observe(0.7);
    before.upgradeDuration.observe(3);
    const carried = await snapshotSeries(before);

    const after = createSeries(sources);
    carryInto(after, carried);
    after.requests.inc(5);
    after.upgradeDuration.observe(0.2);
    const text = await after.registry.metrics();
    expect(value(text, 'overseer_requests_total')).toBe(125);
    expect(value(text, 'overseer_upgrades_total{result="succeeded"}')).toBe(3);
    expect(value(text, 'overseer_upgrades_total{result="failed"}')).toBe(0);
    expect(value(text, 'overseer_worker_restarts_total{reason="crash"}')).toBe(2);
    expect(value(text, 'overseer_upgrade_duration_seconds_count')).toBe(3);
    expect(value(text, 'overseer_upgrade_duration_seconds_sum')).toBeCloseTo(3.9);
    expect(value(text, 'overseer_upgrade_duration_seconds_bucket{le="1"}')).toBe(2);
    expect(value(text, 'overseer_upgrade_duration_seconds_bucket{le="+Inf"}')).toBe(3);

    // A successor replaced in turn passes on what it carried, too.
    const third = createSeries(sources);
    carryInto(third, await snapshotSeries(after));
    expect(value(await third.registry.metrics(), 'overseer_requests_total')).toBe(125);
  });
});
