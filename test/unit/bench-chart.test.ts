/**
 * The bench's deploy charts: the per-100 ms recorder the load clients use
 * (bench/timeline.mjs), the Vega-Lite spec builder (bench/chart-spec.mjs)
 * and, when the bench has installed vega into bench/.deps, the rendering.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/master.js';

// bench/ is plain JavaScript without declarations: loaded untyped.
const load = async (file: string): Promise<any> => import(pathToFileURL(join(ROOT, 'bench', file)).href);
const { Timeline } = await load('timeline.mjs');
const { deployChartSpec } = await load('chart-spec.mjs');

describe('Timeline', () => {
  it('counts per 100 ms by version and by failure kind, and gives the p99 of each second', () => {
    const t = new Timeline();
    for (let i = 0; i < 98; i++) t.record(10, 1, { ok: true, version: 'v0' });
    t.record(150, 500, { ok: true, version: 'v1' });
    t.record(199.9, 500, { ok: false, kind: 'ECONNRESET' });
    t.record(1_050, 3, { ok: false, kind: 'ECONNREFUSED' });
    const json = t.toJSON();
    expect(json.answered).toEqual([[0, 'v0', 98], [100, 'v1', 1]]);
    expect(json.failed).toEqual([[100, 'ECONNRESET', 1], [1000, 'ECONNREFUSED', 1]]);
    // Second 0: 100 requests, 2 of them at 500 ms: the 99th is one of those (bin edge within 5 %).
    expect(json.p99[0][0]).toBe(0);
    expect(json.p99[0][1]).toBeGreaterThanOrEqual(500);
    expect(json.p99[0][1]).toBeLessThanOrEqual(525);
    expect(json.p99[0][2]).toBe(100);
    expect(json.p99[1][0]).toBe(1000);
    expect(json.p99[1][1]).toBeGreaterThanOrEqual(3);
    expect(json.p99[1][1]).toBeLessThanOrEqual(3.15);
  });

  it('stays bounded: distinct keys past 32 in a bucket are counted as "other"', () => {
    const t = new Timeline();
    for (let i = 0; i < 100_000; i++) t.record(5, 1, { ok: false, kind: `error:${i}` });
    const json = t.toJSON();
    expect(json.failed).toHaveLength(33);
    expect(json.failed.find(([, kind]: [number, string]) => kind === 'other')[2]).toBe(100_000 - 32);
    expect(t.latency.size).toBe(1);
  });
});

/** A contender's row as bench/deploy.mjs returns it. */
function row(id: string, label: string, failed: Array<[number, string, number]>, windows: Array<[number, number]>) {
  const answered: Array<[number, string, number]> = [[-100, 'v0', 40], [1900, 'v0', 30], [1900, 'v1', 10], [4000, 'v1', 50]];
  const total = answered.reduce((a, [, , n]) => a + n, 0) + failed.reduce((a, [, , n]) => a + n, 0);
  return {
    id,
    label,
    total,
    failed: failed.reduce((a, [, , n]) => a + n, 0),
    timeline: { bucketMs: 100, latencyBucketMs: 1000, answered, failed, p99: [[0, 4.2, 70], [1000, 12, 80]], windows },
  };
}

describe('deployChartSpec', () => {
  const rows = [
    row('deploy-bare', 'bare node, kill + restart', [[2000, 'ECONNREFUSED', 900], [2100, 'ECONNRESET', 5], [2100, 'ECONNREFUSED', 300]], [[2000, 2150]]),
    row('deploy-overseer', 'overseer --workers max (SIGUSR2)', [], [[2000, 2300], [4000, 4250]]),
    { id: 'deploy-pm2-naive-hello', label: 'pm2 reload', total: null, failed: null, timeline: null },
  ];
  const spec = deployChartSpec({ app: 'hello', intervalMs: 2000, upgrades: 10, traffic: 'HTTP/1.1: test', rows });
  /** Every layer of every panel, flattened: [panel index, row index (0 answered, 1 failed), layer]. */
  const layers = spec.vconcat.flatMap((panel: any, p: number) => panel.vconcat.flatMap((r: any, i: number) => r.layer.map((l: any) => [p, i, l])));

  it('draws one panel per contender with a timeline, in the issue order, titled with its failures', () => {
    expect(spec.vconcat.map((p: any) => p.title.text)).toEqual([
      'overseer --workers max (SIGUSR2): 0 failed of 130 (2 upgrades done)',
      'bare node, kill + restart: 1,205 failed of 1,335 (1 upgrade done)',
    ]);
    expect(spec.title.text).toBe('Deploy under load, hello: 10 upgrades, one every 2 s');
    expect(spec.title.subtitle.at(-1)).toContain('not drawn (run failed before its load started): pm2 reload');
  });

  it('puts every layer on the same time axis, in seconds, covering every panel', () => {
    const domains = layers.map(([, , l]: any) => JSON.stringify(l.encoding.x.scale.domain));
    expect(new Set(domains)).toEqual(new Set(['[-1,5]']));
    // The axis title only under the last panel's failed row.
    const titled = layers.filter(([, , l]: any) => l.encoding.x.axis.title);
    expect(titled.every(([p, r]: any) => p === 1 && r === 1)).toBe(true);
  });

  it('shades each upgrade window in both rows of its panel', () => {
    const windows = layers.filter(([, , l]: any) => l.mark.type === 'rect' && !l.encoding.y);
    expect(windows.map(([p, r, l]: any) => [p, r, l.data.values])).toEqual([
      [0, 0, [{ start: 2, end: 2.3 }, { start: 4, end: 4.25 }]],
      [0, 1, [{ start: 2, end: 2.3 }, { start: 4, end: 4.25 }]],
      [1, 0, [{ start: 2, end: 2.15 }]],
      [1, 1, [{ start: 2, end: 2.15 }]],
    ]);
  });

  it('stacks answered requests by version and failures by kind, with shared scales', () => {
    const answered = layers.filter(([, r, l]: any) => r === 0 && l.encoding.color);
    expect(answered).toHaveLength(2);
    const [, , overseerAnswered] = answered[0];
    expect(overseerAnswered.encoding.color.scale.domain).toEqual(['v0', 'v1']);
    expect(overseerAnswered.encoding.color.scale.range.every((c: string) => !/^#(d6|ff9|ef3|7f0)/.test(c))).toBe(true);
    expect(overseerAnswered.data.values.filter((v: any) => v.t === 1.9)).toEqual([
      { t: 1.9, t2: 2, key: 'v0', n: 30, y: 0, y2: 30 },
      { t: 1.9, t2: 2, key: 'v1', n: 10, y: 30, y2: 40 },
    ]);
    expect(new Set(answered.map(([, , l]: any) => JSON.stringify(l.encoding.y.scale.domain)))).toEqual(new Set(['[0,50]']));

    const failed = layers.filter(([, r, l]: any) => r === 1 && l.encoding.fill);
    expect(failed.map(([, , l]: any) => l.data.values.length)).toEqual([0, 3]);
    const [, , bareFailed] = failed[1];
    // Kinds ordered by their total, the largest at the bottom of each stack; one scale for every panel.
    expect(bareFailed.encoding.fill.scale.domain).toEqual(['ECONNREFUSED', 'ECONNRESET']);
    expect(bareFailed.data.values.filter((v: any) => v.t === 2.1).map((v: any) => [v.key, v.y, v.y2])).toEqual([['ECONNREFUSED', 0, 300], ['ECONNRESET', 300, 305]]);
    expect(failed.map(([, , l]: any) => l.encoding.y.scale)).toEqual([{ type: 'sqrt', domain: [0, 1000] }, { type: 'sqrt', domain: [0, 1000] }]);
    // A panel without failures says so.
    const texts = layers.filter(([, , l]: any) => l.mark.type === 'text').map(([p, , l]: any) => [p, l.data.values[0].label]);
    expect(texts).toEqual([[0, 'no failed request']]);
  });

  it('draws p99 latency per second as a line at the middle of each second, on a log axis', () => {
    const lines = layers.filter(([, , l]: any) => l.mark.type === 'line');
    expect(lines).toHaveLength(2);
    const [, , line] = lines[0];
    expect(line.data.values).toEqual([{ t: 0.5, p99: 4.2 }, { t: 1.5, p99: 12 }]);
    expect(line.encoding.y.scale.type).toBe('log');
  });
});

const VEGA = join(ROOT, 'bench', '.deps', 'node_modules', 'vega-lite', 'package.json');
const noVega = !existsSync(VEGA);
if (noVega) console.log(`skipping the chart rendering test: vega-lite is not in bench/.deps (npm run bench installs it): ${VEGA} missing`);

describe.skipIf(noVega)('rendering (vega from bench/.deps)', () => {
  it('renders a small chart to an SVG that shows the panel titles and the axis', async () => {
    const { renderSvg } = await load('chart-render.mjs');
    const svg: string = await renderSvg(deployChartSpec({
      app: 'hello',
      intervalMs: 2000,
      upgrades: 1,
      traffic: 'HTTP/1.1: test',
      rows: [row('deploy-overseer', 'overseer test panel', [], [[2000, 2300]]), row('deploy-bare', 'bare test panel', [[2000, 'ECONNREFUSED', 9]], [[2000, 2100]])],
    }));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('overseer test panel: 0 failed of 130');
    expect(svg).toContain('bare test panel: 9 failed of 139');
    expect(svg).toContain('no failed request');
    expect(svg).toContain('ECONNREFUSED');
    expect(svg).toContain('seconds from the start of the cadence');
  });
});
