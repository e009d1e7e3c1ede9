/**
 * Start-up cost: the commands that run no master (--version, --help, the
 * clients upgrade/status/stop, bad input) load only what they use, never the
 * master's logging stack (pino, pino-pretty), its watcher (chokidar) or the
 * master itself; and the fast paths (--version, the prebuilt help, a plain
 * command line: src/cli/main.ts) do not load commander either. The modules a
 * real CLI process loads are recorded by a preload
 * (test/fixtures/record-loads.mjs); the time this saves is measured by
 * `npm run bench -- --phases startup`, not here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, startMaster } from '../helpers/master.js';
import { tempDir } from '../helpers/processes.js';

const RECORDER = pathToFileURL(`${ROOT}test/fixtures/record-loads.mjs`).href;
const RUNTIME_RECORDER = pathToFileURL(`${ROOT}test/fixtures/record-runtime.mjs`).href;
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
const COMMANDER = /\/node_modules\/commander\//;

const readLoads = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

/**
 * `overseer <args>` run with a recorder: 'modules' (record-loads.mjs: the
 * URLs of the modules it loads) or 'built-ins' (record-runtime.mjs: the
 * built-ins it loads however it got them, as `node:<name>`).
 */
function runRecorded(args: readonly string[], recorder: 'modules' | 'built-ins' = 'modules') {
  const dir = tempDir('overseer-lazy-');
  const file = join(dir, 'loads.txt');
  writeFileSync(join(dir, 'app.js'), 'require("http").createServer((q, r) => r.end()).listen(process.env.PORT);\n');
  // An empty runtime directory and cwd: the clients find no master and say so.
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: dir, NODE_OPTIONS: '' };
  if (recorder === 'modules') env.OVERSEER_RECORD_LOADS = file;
  else env.OVERSEER_RECORD_RUNTIME = dir;
  const result = spawnSync(process.execPath, ['--import', recorder === 'modules' ? RECORDER : RUNTIME_RECORDER, BIN, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 15_000 });
  const loaded = recorder === 'modules' ? readLoads(file) : readBuiltins(join(dir, `${result.pid}.json`));
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, loaded };
}

const readBuiltins = (file: string) => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { builtins: string[] }).builtins.map((name) => `node:${name}`) : []);

// `commander`: whether the command line goes to commander (help in a form
// not prebuilt, an error commander reports) or is answered without it.
const cases = ([
  { args: ['--version'], code: 0, commander: false },
  { args: ['-V'], code: 0, commander: false },
  { args: ['--help'], code: 0, commander: false },
  { args: ['-h'], code: 0, commander: false },
  { args: ['start', '--help'], code: 0, commander: false },
  { args: ['status', '--help'], code: 0, commander: false },
  { args: ['help', 'start'], code: 0, commander: true },
  { args: ['status'], code: 2, commander: false },
  { args: ['status', '--json', '--name', 'api', '--timeout', '50'], code: 2, commander: false },
  { args: ['upgrade'], code: 2, commander: false },
  { args: ['stop'], code: 2, commander: false },
  { args: ['status', '--bogus'], code: 2, commander: true },
  { args: ['frob'], code: 2, commander: true },
  { args: ['start', 'app.js', '--bogus'], code: 2, commander: true },
  { args: ['start', 'app.js', '--workers', '0'], code: 2, commander: false },
  { args: ['start', 'app.js', '--listen', 'abc'], code: 2, commander: false },
  { args: ['start', 'missing.js'], code: 2, commander: false },
] as const).map((c) => ({ ...c, name: c.args.join(' ') }));

describe('CLI start-up loads only what the command uses', () => {
  it.each(cases)('overseer $name → exit $code, without the master\'s modules (commander: $commander)', ({ args, code, commander }) => {
    const result = runRecorded(args);
    expect(result.code, result.stderr).toBe(code);
    // The recorder works: it saw the executable itself.
    expect(result.loaded).toContain(BIN_URL);
    expect(heavyIn(result.loaded), `overseer ${args.join(' ')} loaded the master's modules`).toEqual([]);
    expect(result.loaded.some((url) => COMMANDER.test(url)), `overseer ${args.join(' ')} loaded commander`).toBe(commander);
  });

  it('a client that finds no master loads neither the control protocol nor node:net', () => {
    for (const command of ['status', 'upgrade', 'stop']) {
      const result = runRecorded([command]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/no master answers/);
      const talking = result.loaded.filter((url) => /\/dist\/(cli\/control-client|ipc\/control|ipc\/lines)\.js$/.test(url));
      expect(talking, `overseer ${command}`).toEqual([]);
      const builtins = runRecorded([command], 'built-ins');
      expect(builtins.code, builtins.stderr).toBe(2);
      expect(builtins.loaded).toContain('node:fs');
      // node:net only to talk; no streams to say there is no master (its
      // line goes out with writeSync, src/cli/output.ts); no fs.promises
      // (node:fs is taken without its ES module facade, which loads it).
      const unused = ['node:net', 'node:stream', 'node:fs/promises'];
      expect(builtins.loaded.filter((name) => unused.includes(name)), `overseer ${command}`).toEqual([]);
    }
  });

  it('a start refused for bad input loads none of the built-ins only the master uses', () => {
    // node:child_process: a pre-flight check of --node-arg; fs.promises and
    // worker_threads: the master's logger; node:net: an options check of an
    // IP literal, and the first touch of process.stdout (a net.Socket for
    // the pipe here), which the options make to pick --log-format's default.
    // (node:v8 and the streams it loads are there: bin/ sets the master's
    // V8 flags before anything else.)
    const always = ['node:child_process', 'node:fs/promises', 'node:worker_threads'];
    const cases: Array<[readonly string[], readonly string[]]> = [
      [['start', 'app.js', '--workers', '0'], [...always, 'node:net']],
      [['start', 'app.js', '--listen', '127.0.0.1:3000', '--listen', '127.0.0.1:3000'], always],
      [['start', 'missing.js'], always],
    ];
    for (const [args, unused] of cases) {
      const result = runRecorded(args, 'built-ins');
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^overseer: /);
      expect(result.loaded.filter((name) => unused.includes(name)), `overseer ${args.join(' ')}`).toEqual([]);
    }
  });

  it.each([
    [['--help'], ['help']],
    [['start', '--help'], ['help', 'start']],
    [['status', '-h'], ['help', 'status']],
  ])('overseer %j prints what commander prints for %j', (fast, live) => {
    const a = runRecorded(fast);
    const b = runRecorded(live);
    expect(a.loaded.some((url) => COMMANDER.test(url))).toBe(false);
    expect(b.loaded.some((url) => COMMANDER.test(url))).toBe(true);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^Usage: overseer /);
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
