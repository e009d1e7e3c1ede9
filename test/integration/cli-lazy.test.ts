/**
 * Start-up cost: the commands that run no master (--version, --help, the
 * clients upgrade/status/stop, bad input) load only what they use, never the
 * master's logging stack (pino, pino-pretty), its watcher (chokidar) or the
 * master itself. The modules a real CLI process loads are recorded by a
 * preload (test/fixtures/record-loads.mjs); the time this saves is measured
 * by `npm run bench -- --phases startup`, not here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, startMaster } from '../helpers/master.js';
import { tempDir } from '../helpers/processes.js';

const RECORDER = pathToFileURL(`${ROOT}test/fixtures/record-loads.mjs`).href;
const BIN_URL = pathToFileURL(BIN).href;

/** What only a running master needs. */
const HEAVY: readonly RegExp[] = [
  /\/node_modules\/pino\//,
  /\/node_modules\/pino-pretty\//,
  /\/node_modules\/chokidar\//,
  /\/dist\/logger\.js$/,
  /\/dist\/master\/master\.js$/,
];
const heavyIn = (loaded: readonly string[]) => loaded.filter((url) => HEAVY.some((re) => re.test(url)));

const readLoads = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

function runRecorded(args: readonly string[]) {
  const dir = tempDir('overseer-lazy-');
  const file = join(dir, 'loads.txt');
  writeFileSync(join(dir, 'app.js'), 'require("http").createServer((q, r) => r.end()).listen(process.env.PORT);\n');
  // An empty runtime directory and cwd: the clients find no master and say so.
  const env = { ...process.env, XDG_RUNTIME_DIR: dir, OVERSEER_RECORD_LOADS: file, NODE_OPTIONS: '' };
  const result = spawnSync(process.execPath, ['--import', RECORDER, BIN, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stderr: result.stderr, loaded: readLoads(file) };
}

const cases = ([
  { args: ['--version'], code: 0 },
  { args: ['-V'], code: 0 },
  { args: ['--help'], code: 0 },
  { args: ['start', '--help'], code: 0 },
  { args: ['status', '--help'], code: 0 },
  { args: ['status'], code: 2 },
  { args: ['upgrade'], code: 2 },
  { args: ['stop'], code: 2 },
  { args: ['frob'], code: 2 },
  { args: ['start', 'app.js', '--bogus'], code: 2 },
  { args: ['start', 'app.js', '--workers', '0'], code: 2 },
  { args: ['start', 'app.js', '--listen', 'abc'], code: 2 },
] as const).map((c) => ({ ...c, name: c.args.join(' ') }));

describe('CLI start-up loads only what the command uses', () => {
  it.each(cases)('overseer $name → exit $code, without the master\'s modules', ({ args, code }) => {
    const result = runRecorded(args);
    expect(result.code, result.stderr).toBe(code);
    // The recorder works: it saw the executable itself.
    expect(result.loaded).toContain(BIN_URL);
    expect(heavyIn(result.loaded), `overseer ${args.join(' ')} loaded the master's modules`).toEqual([]);
  });

  it('the recorder sees them where they are used: a running master loads pino and the master', async () => {
    const dir = tempDir('overseer-lazy-');
    const file = join(dir, 'loads.txt');
    const master = startMaster(['start', `${ROOT}examples/hello/server.js`, '--listen', '127.0.0.1:0'], {
      env: { OVERSEER_RECORD_LOADS: file, NODE_OPTIONS: `--import ${RECORDER}` },
    });
    await master.waitFor('master.ready');
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
    const heavy = heavyIn(readLoads(file));
    expect(heavy.some((url) => url.includes('/node_modules/pino/'))).toBe(true);
    expect(heavy.some((url) => url.endsWith('/dist/master/master.js'))).toBe(true);
  });
});
