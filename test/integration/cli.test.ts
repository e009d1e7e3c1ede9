/**
 * Bad input: one clear line naming the problem, a non-zero exit code, and
 * nothing left behind (no worker, no PID file, no socket file).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/master.js';
import { onCleanup, tempDir } from '../helpers/processes.js';

const HELLO = `${ROOT}examples/hello/server.js`;

function run(args: string[], cwd = ROOT) {
  // Its own runtime dir, so the control socket of a master that fails to
  // start never meets another test's.
  const runtimeDir = tempDir('overseer-run-');
  const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir };
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim(), runtimeDir };
}


async function busyPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

interface BadInput {
  readonly name: string;
  readonly args: (dir: string) => string[] | Promise<string[]>;
  readonly message: RegExp;
  readonly code: number;
}

const cases: readonly BadInput[] = [
  { name: 'unknown option', args: () => ['start', HELLO, '--bogus'], message: /unknown option '--bogus'/, code: 2 },
  { name: 'unknown command', args: () => ['frob'], message: /unknown command 'frob'/, code: 2 },
  { name: 'missing script', args: () => ['start'], message: /missing required argument 'script'/, code: 2 },
  { name: 'script not found', args: (d) => ['start', join(d, 'nope.js')], message: /script not found: .*nope\.js/, code: 2 },
  { name: 'unparsable address', args: () => ['start', HELLO, '--listen', 'abc'], message: /--listen .*got `abc`/, code: 2 },
  { name: 'port out of range', args: () => ['start', HELLO, '--listen', '127.0.0.1:99999'], message: /--listen .*`127\.0\.0\.1:99999`/, code: 2 },
  { name: 'bare IPv6', args: () => ['start', HELLO, '--listen', '::1:3000'], message: /--listen: write IPv6 addresses in brackets.*got `::1:3000`/, code: 2 },
  { name: 'workers 0', args: () => ['start', HELLO, '--workers', '0'], message: /--workers must be an integer >= 1, got `0`/, code: 2 },
  { name: 'workers not a number', args: () => ['start', HELLO, '--workers', 'lots'], message: /--workers .*got `lots`/, code: 2 },
  { name: 'drain timeout not a number', args: () => ['start', HELLO, '--drain-timeout', 'abc'], message: /--drain-timeout must be a non-negative integer, got `abc`/, code: 2 },
  { name: 'negative ready timeout', args: () => ['start', HELLO, '--ready-timeout', '-5'], message: /--ready-timeout .*got `-5`/, code: 2 },
  { name: 'log format', args: () => ['start', HELLO, '--log-format', 'xml'], message: /--log-format must be one of json, pretty, got `xml`/, code: 2 },
  { name: 'workers over the bound', args: () => ['start', HELLO, '--workers', '99999999999'], message: /--workers must be at most 1024, got `99999999999`/, code: 2 },
  { name: 'one address twice', args: () => ['start', HELLO, '--listen', '127.0.0.1:4321', '--listen', '127.0.0.1:4321'], message: /--listen `127\.0\.0\.1:4321` and `127\.0\.0\.1:4321` are the same address/, code: 2 },
  { name: 'two spellings of all interfaces', args: () => ['start', HELLO, '--listen', '4321', '--listen', '*:4321'], message: /--listen `4321` and `\*:4321` are the same address/, code: 2 },
  { name: 'a host name and an IP on one port', args: () => ['start', HELLO, '--listen', 'localhost:4321', '--listen', '127.0.0.1:4321'], message: /--listen `localhost:4321` and `127\.0\.0\.1:4321` both use port 4321/, code: 2 },
  { name: 'two spellings of one unix path', args: (d) => ['start', HELLO, '--listen', `unix:${d}/a.sock`, '--listen', `unix:${d}/./a.sock`], message: /--listen .* are the same socket/, code: 2 },
  { name: 'script is a directory', args: (d) => ['start', d], message: /script is a directory with nothing for node to run/, code: 2 },
  { name: 'node rejects a --node-arg', args: () => ['start', HELLO, '--listen', '127.0.0.1:0', '--node-arg=--expose-gc', '--node-arg=--bogus-flag'], message: /--node-arg `--bogus-flag` is rejected by node: .*bad option: --bogus-flag/, code: 2 },
  { name: 'node rejects a --node-arg value', args: () => ['start', HELLO, '--listen', '127.0.0.1:0', '--node-arg=--max-old-space-size=lots'], message: /--node-arg `--max-old-space-size=lots` is rejected by node: .*illegal value/, code: 2 },
  { name: 'a --node-arg that is not an option', args: () => ['start', HELLO, '--node-arg', HELLO], message: /--node-arg must be one node option/, code: 2 },
  {
    name: 'port in use',
    args: async () => ['start', HELLO, '--listen', `127.0.0.1:${await busyPort()}`],
    message: /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
    code: 1,
  },
  {
    name: 'second listen address in use (the first is released)',
    args: async (d) => ['start', HELLO, '--listen', `unix:${join(d, 'a.sock')}`, '--listen', `127.0.0.1:${await busyPort()}`],
    message: /EADDRINUSE/,
    code: 1,
  },
  { name: 'permission denied', args: () => ['start', HELLO, '--listen', 'unix:/proc/overseer-test.sock'], message: /cannot listen on unix:\/proc\/overseer-test\.sock: EACCES \(permission denied\)/, code: 1 },
  { name: 'pid file in a missing directory', args: (d) => ['start', HELLO, '--listen', '127.0.0.1:0', '--pid-file', join(d, 'no/such/dir.pid')], message: /--pid-file .* cannot be written: ENOENT/, code: 1 },
];

describe('bad input', () => {
  it.each(cases)('$name → exit $code with one line', async ({ args, message, code }) => {
    const dir = tempDir('overseer-cli-');
    const pidFile = join(dir, 'master.pid');
    const argv = await args(dir);
    const withPid = argv[0] === 'start' && argv.length > 1 && !argv.includes('--pid-file') ? [...argv, '--pid-file', pidFile] : argv;
    const before = readdirSync(dir);
    const result = run(withPid);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^overseer: /);
    expect(result.code).toBe(code);
    expect(result.stdout).not.toContain('worker.spawned');
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(join(dir, 'a.sock'))).toBe(false);
    if (code === 2) {
      // Bad input is found before anything exists: no log line, no control socket or its directory.
      expect(result.stdout).toBe('');
      expect(readdirSync(result.runtimeDir)).toEqual([]);
      expect(readdirSync(dir)).toEqual(before);
    }
  });

  it('start missing.js (relative): one line on stderr, nothing on stdout, nothing created', () => {
    const dir = tempDir('overseer-cli-');
    const result = run(['start', 'missing.js'], dir);
    expect(result.stderr).toBe(`overseer: script not found: missing.js (looked for ${join(dir, 'missing.js')})`);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(result.runtimeDir)).toEqual([]);
  });

  it('--help documents every option with its default', () => {
    const result = run(['start', '--help']);
    expect(result.code).toBe(0);
    for (const option of ['--listen', '--workers', '--wait-ready', '--ready-timeout', '--drain-timeout', '--watch', '--pid-file', '--name', '--log-level', '--log-format', '--node-arg']) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stdout).toContain('(default: "30000")');
  });
});
