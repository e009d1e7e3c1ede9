import { describe, expect, it } from 'vitest';
import { MemoryWatch } from '../../../../src/master/health/memory-watch.js';
import { parseVmRss, readRss } from '../../../../src/master/health/rss.js';
import { FakeClock, flush } from '../../../helpers/fakes.js';

const MiB = 1024 ** 2;

function setup(samplesOver?: number) {
  const clock = new FakeClock();
  const rss = new Map<number, number | undefined>();
  const over: Array<[string, number]> = [];
  const watch = new MemoryWatch<{ name: string }>({
    limitBytes: 100 * MiB,
    clock,
    sampleMs: 1_000,
    ...(samplesOver === undefined ? {} : { samplesOver }),
    readRss: (pid) => Promise.resolve(rss.get(pid)),
    onOverLimit: (w, bytes) => over.push([w.name, bytes]),
  });
  /** One sample interval, with the reads settled. */
  const tick = async () => {
    clock.advance(1_000);
    await flush();
  };
  return { watch, rss, over, tick, clock };
}

describe('MemoryWatch', () => {
  it('reports a worker above the limit for two samples in a row, once', async () => {
    const { watch, rss, over, tick } = setup();
    const a = { name: 'a' };
    watch.watch(a, 10);
    rss.set(10, 150 * MiB);
    await tick();
    expect(over).toEqual([]); // one sample: maybe a spike
    expect(watch.rss(a)).toBe(150 * MiB);
    rss.set(10, 160 * MiB);
    await tick();
    expect(over).toEqual([['a', 160 * MiB]]);
    await tick();
    expect(over).toHaveLength(1);
  });

  it('does not count a spike: the run of samples above the limit restarts below it', async () => {
    const { watch, rss, over, tick } = setup();
    watch.watch({ name: 'a' }, 10);
    for (const mib of [150, 90, 150, 90, 150, 100]) {
      rss.set(10, mib * MiB);
      await tick();
    }
    expect(over).toEqual([]); // 100 MiB is not above a 100 MiB limit
  });

  it('watches each worker apart, and not once forgotten', async () => {
    const { watch, rss, over, tick, clock } = setup();
    const a = { name: 'a' };
    const b = { name: 'b' };
    watch.watch(a, 10);
    watch.watch(b, 20);
    rss.set(10, 200 * MiB);
    rss.set(20, 50 * MiB);
    await tick();
    watch.forget(a);
    await tick();
    expect(over).toEqual([]);
    rss.set(20, 101 * MiB);
    await tick();
    await tick();
    expect(over).toEqual([['b', 101 * MiB]]);
    watch.forget(b);
    expect(clock.pendingTimers).toBe(0);
  });

  it('takes a gone process (no RSS) as below the limit', async () => {
    const { watch, rss, over, tick } = setup(1);
    watch.watch({ name: 'a' }, 10);
    rss.set(10, undefined);
    await tick();
    expect(over).toEqual([]);
  });
});

describe('readRss', () => {
  it('reads this process\'s RSS from /proc, as the kernel reports it', async () => {
    const bytes = await readRss(process.pid);
    expect(bytes).toBeGreaterThan(10 * MiB);
    // process.memoryUsage().rss comes from the same counters
    expect(Math.abs(bytes! - process.memoryUsage().rss)).toBeLessThan(50 * MiB);
  });

  it('resolves undefined for a process that does not exist', async () => {
    await expect(readRss(2 ** 30)).resolves.toBeUndefined();
    await expect(readRss(-1)).resolves.toBeUndefined();
  });

  it('parses VmRSS in kB, and nothing else', () => {
    expect(parseVmRss('Name:\tnode\nVmRSS:\t   45056 kB\nRssAnon:\t 1 kB\n')).toBe(45056 * 1024);
    expect(parseVmRss('Name:\tzombie\nState:\tZ (zombie)\n')).toBeUndefined();
  });
});
