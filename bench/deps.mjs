/**
 * The bench's own tools, installed at bench time into bench/.deps (git-ignored)
 * so that `npm ci` for the test suite stays lean.
 *
 * Contracts:
 * - Pinned versions from the npm registry, installed with npm's ordinary
 *   client (`npm install --prefix bench/.deps`, no install scripts). An
 *   install whose pinned version is already there is reused.
 * - Never throws: a tool that cannot be installed comes back as `null` with
 *   the reason in `problems`, and the bench goes on without it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const DEPS_DIR = join(BENCH_DIR, '.deps');

/** Tools, their pinned versions, and the file to run with `node`. */
export const PINNED = {
  pm2: { version: '7.0.4', entry: 'bin/pm2' },
  autocannon: { version: '9.0.0', entry: 'autocannon.js' },
  // The deploy charts (bench/chart-render.mjs): pure JavaScript, SVG without
  // a browser or canvas. vega first: vega-lite names it as a peer dependency.
  vega: { version: '5.33.1', entry: 'package.json' },
  'vega-lite': { version: '5.23.0', entry: 'package.json' },
};

/** @param {string} name @returns {string | null} installed version */
function installedVersion(name) {
  try {
    return JSON.parse(readFileSync(join(DEPS_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/**
 * Make sure every pinned tool is installed.
 * @param {(line: string) => void} log
 * @returns {{ tools: Record<string, { version: string, entry: string, dir: string } | null>, problems: Record<string, string> }}
 */
export function ensureDeps(log) {
  mkdirSync(DEPS_DIR, { recursive: true });
  const manifest = join(DEPS_DIR, 'package.json');
  if (!existsSync(manifest)) writeFileSync(manifest, '{ "private": true, "description": "overseer bench tools, installed by bench/deps.mjs" }\n');
  /** @type {Record<string, { version: string, entry: string, dir: string } | null>} */
  const tools = {};
  /** @type {Record<string, string>} */
  const problems = {};
  for (const [name, pin] of Object.entries(PINNED)) {
    if (installedVersion(name) !== pin.version) {
      log(`installing ${name}@${pin.version} into ${DEPS_DIR} …`);
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      const result = spawnSync(npm, ['install', '--prefix', DEPS_DIR, '--no-audit', '--no-fund', '--ignore-scripts', '--save-exact', `${name}@${pin.version}`], {
        encoding: 'utf8',
        timeout: 180_000,
        env: { ...process.env, npm_config_update_notifier: 'false' },
      });
      if (result.status !== 0) {
        const why = result.error ? result.error.message : (result.stderr || result.stdout || '').trim().split('\n').filter((l) => !/Unknown user config/.test(l)).slice(-3).join(' | ');
        problems[name] = `npm install ${name}@${pin.version} failed: ${why || `exit ${result.status}`}`;
      }
    }
    const version = installedVersion(name);
    const dir = join(DEPS_DIR, 'node_modules', name);
    const entry = join(dir, pin.entry);
    if (version === pin.version && existsSync(entry)) tools[name] = { version, entry, dir };
    else {
      tools[name] = null;
      problems[name] ??= `${name}@${pin.version} not found in ${DEPS_DIR} after install`;
    }
  }
  return { tools, problems };
}
