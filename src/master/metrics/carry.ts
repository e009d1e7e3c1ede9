/**
 * Counters across a self-upgrade (src/master/succession/): the predecessor
 * sends its counters' and histograms' samples at the take-over, and the
 * successor adds them to its own at every scrape, so that no counter, bucket,
 * `_sum` or `_count` goes backwards when the master's pid changes. Samples
 * are matched by metric name and labels; one the successor has not produced
 * yet is served as carried.
 */
import type { CarriedSeries } from '../succession/protocol.js';
import type { Series } from './series.js';

type Sample = CarriedSeries['values'][number];
/** A sample as prom-client lists it; a histogram's text form keeps the series' labels apart (`sharedLabels`). */
type Listed = Sample & { readonly sharedLabels?: Readonly<Record<string, string | number>> };
type Listing = { values: Listed[] };
type Carrying = { readonly name: string; get(): Promise<Listing>; getForPromString?: () => Promise<Listing> };

/** The series whose values only grow. */
function growing(series: Series): Carrying[] {
  return [series.upgrades, series.restarts, series.requests, series.upgradeDuration, series.drainDuration] as unknown as Carrying[];
}

/** Their samples now, carried ones included (a successor can be replaced in turn). */
export async function snapshotSeries(series: Series): Promise<CarriedSeries[]> {
  return Promise.all(growing(series).map(async (metric) => ({
    name: metric.name,
    values: (await metric.get()).values.map(({ metricName, labels, value }) => ({ ...(metricName ? { metricName } : {}), labels: { ...labels }, value })),
  })));
}

const keyOf = (sample: Listed) => {
  const labels = Object.entries({ ...sample.sharedLabels, ...sample.labels }).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${sample.metricName ?? ''}\u0000${JSON.stringify(labels)}`;
};

function addCarried(values: readonly Listed[], carried: readonly Sample[], form: 'text' | 'plain'): Listed[] {
  const extra = new Map(carried.map((v) => [keyOf(v), v]));
  const sum = values.map((v) => {
    const add = extra.get(keyOf(v));
    extra.delete(keyOf(v));
    return add ? { ...v, value: v.value + add.value } : v;
  });
  const missing = [...extra.values()].map((v) => ({ ...v, labels: { ...v.labels }, ...(form === 'text' ? { sharedLabels: {} } : {}) }));
  return [...sum, ...missing];
}

/**
 * From now on each series reports the predecessor's samples added to its own:
 * in `get()` (what snapshotSeries reads) and, for a histogram, in the form
 * the registry prints (`getForPromString`, which `get()` builds on).
 */
export function carryInto(series: Series, carried: readonly CarriedSeries[]): void {
  for (const metric of growing(series)) {
    const from = carried.find((c) => c.name === metric.name);
    if (!from || from.values.length === 0) continue;
    if (typeof metric.getForPromString === 'function') {
      const own = metric.getForPromString.bind(metric);
      metric.getForPromString = async () => {
        const result = await own();
        return { ...result, values: addCarried(result.values, from.values, 'text') };
      };
      continue;
    }
    const own = metric.get.bind(metric);
    metric.get = async () => {
      const result = await own();
      return { ...result, values: addCarried(result.values, from.values, 'plain') };
    };
  }
}
