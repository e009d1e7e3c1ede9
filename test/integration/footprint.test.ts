/**
 * The master's footprint (docs/benchmarks.md, footprint; docs/decisions.md,
 * "The master's footprint"): a master loads what its configuration uses and
 * no more, its young generation does not grow during start-up, and V8's
 * optimizing compilers never run in it. Its RSS itself is measured by
 * `node bench/run.mjs --phases footprint`, not here: it depends on the
 * machine and the Node version.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, baseArgs, startMaster } from '../helpers/master.js';
import { tempDir } from '../helpers/processes.js';

const HELLO = `${ROOT}examples/hello/server.js`;
const LOADS = pathToFileURL(`${ROOT}test/fixtures/record-loads.mjs`).href;
const RUNTIME = pathToFileURL(`${ROOT}test/fixtures/record-runtime.mjs`).href;

/** Node built-ins that only some configurations (or no master) need. */
const LAZY_BUILTINS = ['crypto', 'dns/promises', 'http', 'https', 'http2', 'inspector'];
/** Modules, by URL, that only some configurations need. */
const LAZY_MODULES: readonly RegExp[] = [
  /\/node_modules\/prom-client\//, // --metrics
  /\/node_modules\/chokidar\//, // --watch
  /\/node_modules\/pino-pretty\//, // --log-format pretty
  /\/dist\/master\/metrics\//,
];

describe('the master\'s footprint', () => {
  it('an idle master with the default options loads none of what only some options use', async () => {
    const dir = tempDir('overseer-footprint-');
    const loads = join(dir, 'loads.txt');
    const master = startMaster(baseArgs(HELLO), {
      env: { OVERSEER_RECORD_LOADS: loads, OVERSEER_RECORD_RUNTIME: dir, NODE_OPTIONS: `--import ${LOADS} --import ${RUNTIME}` },
    });
    await master.waitFor('master.ready');
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);

    const { builtins, newSpaceBytes } = JSON.parse(readFileSync(join(dir, `${master.pid}.json`), 'utf8')) as { builtins: string[]; newSpaceBytes: number };
    // The recorder works: it saw what every master loads.
    expect(builtins).toEqual(expect.arrayContaining(['child_process', 'net']));
    expect(LAZY_BUILTINS.filter((name) => builtins.includes(name))).toEqual([]);
    const urls = readFileSync(loads, 'utf8').split('\n');
    expect(urls.some((url) => url.endsWith('/dist/master/master.js'))).toBe(true);
    expect(urls.filter((url) => LAZY_MODULES.some((re) => re.test(url)))).toEqual([]);
    // The young generation did not grow: 1 MiB semi-spaces. Without
    // src/master/tune-v8.ts the start-up churn doubled it to 4 MiB.
    expect(newSpaceBytes).toBeGreaterThan(0);
    expect(newSpaceBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  // Two layouts: this checkout, and a copy of bin/, dist/ and package.json
  // with node_modules linked, as the bench runs it (and as an install with
  // links can be): the module loader's work before bin/ can act depends on
  // the paths it resolves, and a change that kept this checkout clean once
  // let TurboFan start in the copy (docs/decisions.md).
  it.each(['this checkout', 'a copy with node_modules linked'])('V8\'s optimizing compilers never run in the master (%s)', async (layout) => {
    const bin = layout === 'this checkout' ? BIN : copyOfOverseer();
    // `node --trace-opt …`: V8 prints a line for every function it marks for
    // TurboFan or Maglev. No preload here: it would run before bin/ sets the
    // master's flags. The workers do not get the flag.
    const marked = (lines: readonly string[]) =>
      lines.flatMap((line) => /<JSFunction (\S+) .*for optimization to (?:TURBOFAN|MAGLEV)/.exec(line)?.[1] ?? []);
    // What Node itself marks before bin/ can set a flag (on Node 24, Maglev
    // for a path function during bin/'s first import): `--version` sets none.
    const before = marked(spawnSync(process.execPath, ['--trace-opt', bin, '--version'], { encoding: 'utf8' }).stdout.split('\n'));
    const master = startMaster(baseArgs(HELLO), { bin, launcher: ['sh', '-c', 'exec "$0" --trace-opt "$@"'] });
    await master.waitFor('master.ready');
    // Some work after the start: the control socket answers a status request.
    expect((await master.cli(['status'])).code).toBe(0);
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
    // Without bin/'s settings, V8 marks the module loader's path functions
    // (normalizeString, getPathFromURLPosix, …) while the master loads.
    expect(marked(master.output).filter((name) => !before.includes(name))).toEqual([]);
  });
});

/** bin/, dist/ and package.json copied to a temporary directory, node_modules linked; returns its bin/overseer.js. */
function copyOfOverseer(): string {
  const dir = join(tempDir('overseer-copy-'), 'overseer');
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'bin', 'overseer.js');
}
