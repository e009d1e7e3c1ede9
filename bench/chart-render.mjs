#!/usr/bin/env node
/**
 * Renders the deploy-under-load charts (bench/chart-spec.mjs) to SVG with
 * vega + vega-lite from bench/.deps: pure JavaScript, no browser, no canvas
 * (text is measured by Vega's estimate, good enough for labels).
 *
 *   node bench/chart-render.mjs bench/results/bench-<stamp>.json [out-dir]
 *
 * re-renders the charts of a saved run (into out-dir, default: beside the
 * JSON), e.g. after changing the chart's design; `npm run bench` renders
 * them itself after the deploy phase.
 *
 * Contracts:
 * - One SVG per app of the deploy phase: `<prefix>deploy-<app>.svg`.
 * - vega and vega-lite are loaded from the directory given (installed there
 *   by bench/deps.mjs); if they are missing the caller gets an error naming
 *   the directory, and the bench goes on without charts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deployChartSpec } from './chart-spec.mjs';
import { DEPS_DIR } from './deps.mjs';

/**
 * @param {Record<string, any>} spec a Vega-Lite spec
 * @param {string} [depsDir] where vega and vega-lite are installed
 * @returns {Promise<string>} the SVG document
 */
export async function renderSvg(spec, depsDir = DEPS_DIR) {
  const require = createRequire(join(depsDir, 'package.json'));
  /** @param {string} name */
  const load = async (name) => {
    try {
      return await import(pathToFileURL(require.resolve(name)).href);
    } catch (err) {
      throw new Error(`cannot load ${name} from ${depsDir} (installed by bench/deps.mjs): ${/** @type {Error} */ (err).message}`, { cause: err });
    }
  };
  const vega = await load('vega');
  const vegaLite = await load('vega-lite');
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    // Coordinates to 0.01 px: Vega writes them to 15 digits, half the file.
    return (await view.toSVG()).replace(/ (d|transform)="([^"]*)"/g, (_, name, value) => ` ${name}="${value.replace(/(\.\d\d)\d+/g, '$1')}"`);
  } finally {
    view.finalize();
  }
}

/** @param {any} d one app's entry of results.deploy @returns {string} */
function traffic(d) {
  return d.h2
    ? `HTTP/2 (h2c): ${d.h2.sessions} sessions × ${d.h2.streams} concurrent streams, each session reused until GOAWAY`
    : `HTTP/1.1: ${d.keepalive} keep-alive + ${d.fresh} new-connection-per-request loops`;
}

/**
 * Write one chart per app of the deploy phase.
 * @param {any[]} deploy results.deploy
 * @param {string} outDir
 * @param {string} [prefix] file name prefix
 * @returns {Promise<string[]>} the paths written
 */
export async function writeDeployCharts(deploy, outDir, prefix = '') {
  mkdirSync(outDir, { recursive: true });
  const paths = [];
  for (const d of deploy) {
    const spec = deployChartSpec({ app: d.app, intervalMs: d.intervalMs, upgrades: d.upgrades, traffic: traffic(d), rows: d.rows });
    const path = join(outDir, `${prefix}deploy-${d.app}.svg`);
    writeFileSync(path, await renderSvg(spec));
    paths.push(path);
  }
  return paths;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, out] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/chart-render.mjs bench/results/bench-<stamp>.json [out-dir]\n');
    process.exit(2);
  }
  const results = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(results.deploy)) {
    process.stderr.write(`chart-render: ${file} has no deploy phase results\n`);
    process.exit(2);
  }
  const prefix = out ? '' : `${basename(file, '.json')}-`;
  for (const path of await writeDeployCharts(results.deploy, out ?? dirname(file), prefix)) process.stdout.write(`${path}\n`);
}
