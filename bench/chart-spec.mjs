/**
 * The Vega-Lite spec of a deploy-under-load chart: one app, one panel per
 * contender, every panel on the same time axis (seconds from t0, the start
 * of the upgrade cadence: upgrade k is triggered at k × interval).
 *
 * A panel is two rows over the same x:
 * - answered requests per 100 ms, stacked and coloured by the version that
 *   answered, with p99 latency per second as a line on a log axis (right);
 * - failed requests per 100 ms, stacked by kind, in reds.
 * Upgrade windows (trigger → old generation gone) are shaded in both rows.
 *
 * Contracts:
 * - Pure: data in, a plain JSON spec out (no Vega import); rendering is
 *   bench/chart-render.mjs. Tested in test/unit/bench-chart.test.ts.
 * - Scales that compare contenders are shared and explicit: time, answered
 *   per 100 ms, failed per 100 ms (square-root, so a few dozen failures
 *   still show beside thousands), p99 latency. A version keeps its colour in
 *   every panel; no version is drawn in red.
 * - Rows without a timeline (the contender's run failed before its load
 *   started) are left out and named in the subtitle.
 */

/** Panel order: the order, whatever order the contenders ran in. */
const ORDER = ['deploy-overseer', 'deploy-pm2-naive', 'deploy-pm2-graceful', 'deploy-bare'];
/** Cycled by version number; adjacent versions differ, none is red or pink. */
const VERSION_COLOURS = ['#4e79a7', '#59a14f', '#b07aa1', '#edc948', '#76b7b2', '#9c755f', '#a0cbe8', '#8cd17d', '#bab0ac', '#d4a6c8', '#499894', '#f1ce63'];
const FAILURE_COLOURS = ['#d62728', '#67000d', '#fcae91', '#f768a1', '#a50f15', '#fee0d2'];
const WIDTH = 720;

/** @param {number} n */
const thousands = (n) => n.toLocaleString('en-US');
/** @param {number} n @returns {number} n rounded up to 1, 2 or 5 × a power of ten */
const roundUp = (n) => { const p = 10 ** Math.floor(Math.log10(n)); return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= n) ?? n; };
/** @param {string} v @returns {number} the number in `v12`, or Infinity */
const versionNumber = (v) => (/^v\d+$/.test(v) ? Number(v.slice(1)) : Infinity);
/** @param {string} id */
const rank = (id) => { const i = ORDER.findIndex((prefix) => id.startsWith(prefix)); return i === -1 ? ORDER.length : i; };

/**
 * Bars stacked by hand, in the order of `keys` from the bottom (Vega-Lite
 * stacks only bars it sees as vertical, and not on a sqrt scale).
 * @param {Array<[number, string, number]>} entries [bucket start ms, key, count], sorted by time
 * @param {number} bucketMs @param {string[]} keys
 */
function stacked(entries, bucketMs, keys) {
  /** @type {Map<number, Array<[string, number]>>} */
  const byBucket = new Map();
  for (const [ms, key, n] of entries) {
    let list = byBucket.get(ms);
    if (!list) byBucket.set(ms, (list = []));
    list.push([key, n]);
  }
  return [...byBucket].flatMap(([ms, list]) => {
    let y = 0;
    return list.sort((a, b) => keys.indexOf(a[0]) - keys.indexOf(b[0])).map(([key, n]) => {
      const bar = { t: ms / 1000, t2: (ms + bucketMs) / 1000, key, n, y, y2: y + n };
      y += n;
      return bar;
    });
  });
}

/**
 * @typedef {{ bucketMs: number, latencyBucketMs: number,
 *   answered: Array<[number, string, number]>, failed: Array<[number, string, number]>,
 *   p99: Array<[number, number, number]>, windows: Array<[number, number]> }} ChartTimeline
 * @typedef {{ id: string, label: string, total: number | null, failed: number | null,
 *   upgrades?: number, timeline: ChartTimeline | null }} ChartRow
 */

/**
 * @param {{ app: string, intervalMs: number, upgrades: number, traffic: string, rows: ChartRow[] }} deploy
 * @returns {Record<string, any>} a Vega-Lite spec
 */
export function deployChartSpec({ app, intervalMs, upgrades, traffic, rows }) {
  const drawn = rows.filter((r) => r.timeline).sort((a, b) => rank(a.id) - rank(b.id));
  const missing = rows.filter((r) => !r.timeline).map((r) => r.label);
  const timelines = drawn.map((r) => /** @type {ChartTimeline} */ (r.timeline));

  // Shared domains.
  const times = timelines.flatMap((t) => [...t.answered, ...t.failed].flatMap(([ms]) => [ms, ms + t.bucketMs]).concat(t.windows.flat()));
  const xDomain = [Math.floor(Math.min(0, ...times) / 1000), Math.ceil(Math.max(1000, ...times) / 1000)];
  const perBucket = (/** @type {Array<[number, string, number]>} */ entries) => {
    /** @type {Map<number, number>} */
    const sums = new Map();
    for (const [ms, , n] of entries) sums.set(ms, (sums.get(ms) ?? 0) + n);
    return Math.max(0, ...sums.values());
  };
  const answeredMax = Math.max(1, ...timelines.map((t) => perBucket(t.answered)));
  const failedMax = roundUp(Math.max(1, ...timelines.map((t) => perBucket(t.failed))));
  const failedTicks = failedMax >= 20 ? [0, roundUp(failedMax / 10), failedMax] : [0, failedMax];
  const latencies = timelines.flatMap((t) => t.p99.map(([, ms]) => ms)).filter((ms) => ms > 0);
  const p99Domain = [Math.min(1, ...latencies), Math.max(10, ...latencies)];
  const versions = [...new Set(timelines.flatMap((t) => t.answered.map(([, v]) => v)))]
    .sort((a, b) => versionNumber(a) - versionNumber(b) || a.localeCompare(b));
  const totals = new Map();
  for (const t of timelines) for (const [, kind, n] of t.failed) totals.set(kind, (totals.get(kind) ?? 0) + n);
  const kinds = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || a.localeCompare(b));

  /** The shared time axis; labelled under the failed row only, titled under the last panel. @param {string} field @param {'none' | 'labels' | 'titled'} axis */
  const x = (field, axis) => ({
    field,
    type: 'quantitative',
    scale: { domain: xDomain, nice: false, zero: false },
    axis: {
      title: axis === 'titled' ? `seconds from the start of the cadence (upgrade k triggered at k × ${intervalMs / 1000} s)` : null,
      labels: axis !== 'none',
      tickMinStep: 1,
      grid: false,
    },
  });
  const windowsLayer = (/** @type {ChartTimeline} */ t, /** @type {'none' | 'labels' | 'titled'} */ axis) => ({
    data: { values: t.windows.map(([start, end]) => ({ start: start / 1000, end: end / 1000 })) },
    // A white edge keeps back-to-back windows apart.
    mark: { type: 'rect', color: '#000000', opacity: 0.1, stroke: '#ffffff', strokeWidth: 1.5, strokeOpacity: 1 },
    encoding: { x: x('start', axis), x2: { field: 'end' } },
  });

  const panels = drawn.map((row, i) => {
    const t = /** @type {ChartTimeline} */ (row.timeline);
    const last = i === drawn.length - 1;
    const failedAxis = last ? 'titled' : 'labels';
    const answered = {
      width: WIDTH,
      height: 130,
      layer: [
        windowsLayer(t, 'none'),
        {
          data: { values: stacked(t.answered, t.bucketMs, versions) },
          mark: { type: 'rect' },
          encoding: {
            x: x('t', 'none'),
            x2: { field: 't2' },
            y: { field: 'y', type: 'quantitative', scale: { domain: [0, answeredMax] }, axis: { title: `answered / ${t.bucketMs} ms`, tickCount: 4 } },
            y2: { field: 'y2' },
            color: { field: 'key', type: 'nominal', scale: { domain: versions, range: versions.map((v, k) => VERSION_COLOURS[(Number.isFinite(versionNumber(v)) ? versionNumber(v) : k) % VERSION_COLOURS.length]) }, legend: { title: 'answered by', orient: 'right' } },
          },
        },
        {
          data: { values: t.p99.map(([ms, p99]) => ({ t: (ms + t.latencyBucketMs / 2) / 1000, p99 })) },
          mark: { type: 'line', color: '#000000', strokeWidth: 1.5, point: { size: 12, color: '#000000' } },
          encoding: {
            x: x('t', 'none'),
            y: { field: 'p99', type: 'quantitative', scale: { type: 'log', domain: p99Domain }, axis: { title: 'p99 ms per s (log)', orient: 'right', tickCount: 4, grid: false } },
          },
        },
      ],
      resolve: { scale: { y: 'independent' } },
    };
    const failedValues = stacked(t.failed, t.bucketMs, kinds);
    const failed = {
      width: WIDTH,
      height: 45,
      layer: [
        windowsLayer(t, failedAxis),
        {
          data: { values: failedValues },
          mark: { type: 'rect' },
          encoding: {
            x: x('t', failedAxis),
            x2: { field: 't2' },
            y: { field: 'y', type: 'quantitative', scale: { type: 'sqrt', domain: [0, failedMax] }, axis: { title: `failed / ${t.bucketMs} ms`, values: failedTicks } },
            y2: { field: 'y2' },
            fill: { field: 'key', type: 'nominal', scale: { domain: kinds.length ? kinds : ['none'], range: FAILURE_COLOURS }, legend: kinds.length ? { title: 'failed, by kind', orient: 'right' } : null },
          },
        },
        ...(failedValues.length === 0 ? [{
          data: { values: [{ t: (xDomain[0] + xDomain[1]) / 2, label: 'no failed request' }] },
          mark: { type: 'text', color: '#2ca02c', fontSize: 12, fontWeight: 'bold' },
          encoding: { x: x('t', failedAxis), y: { value: 22 }, text: { field: 'label' } },
        }] : []),
      ],
    };
    const upgradesDone = t.windows.length;
    return {
      title: { text: `${row.label}: ${row.failed === null ? '?' : thousands(row.failed)} failed of ${row.total === null ? '?' : thousands(row.total)} (${upgradesDone} upgrade${upgradesDone === 1 ? '' : 's'} done)`, anchor: 'start', fontSize: 13 },
      spacing: 4,
      vconcat: [answered, failed],
    };
  });

  const subtitle = [
    traffic,
    'bars: requests answered per 100 ms, coloured by the version that answered; below, in red: failed requests per 100 ms, by kind',
    'grey bands: upgrade windows, from the trigger to the old generation gone; black line: p99 latency per second (right axis, log scale)',
  ];
  if (missing.length) subtitle.push(`not drawn (run failed before its load started): ${missing.join(', ')}`);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `Deploy under load, ${app}: ${upgrades} upgrades, one every ${intervalMs / 1000} s`, subtitle, anchor: 'start', fontSize: 16, subtitleFontSize: 11, offset: 16 },
    background: '#ffffff',
    padding: 12,
    // No per-mark ARIA labels: they would repeat every bucket's data in the SVG.
    config: { aria: false, view: { stroke: '#dddddd' }, axis: { labelFontSize: 10, titleFontSize: 10 }, legend: { labelFontSize: 10, titleFontSize: 11 } },
    spacing: 22,
    vconcat: panels,
    resolve: { scale: { y: 'independent', color: 'shared', fill: 'shared' } },
  };
}
