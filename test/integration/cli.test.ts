/**
 * Bad input: one clear line naming the problem, a non-zero exit code, and
 * nothing left behind (no worker, no PID file, no socket file).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/master.js';
import { onCleanup, tempDir } from '../helpers/processes.js';

const HELLO = `${ROOT}examples/hello/server.js`;

function run(args: string[]) {
  // Its own runtime dir, so the control socket of a master that fails to
  // start never meets another test's.
  const env = { ...process.env, XDG_RUNTIME_DIR: tempDir('overseer-run-') };
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
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
    const result = run(withPid);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^overseer: /);
    expect(result.code).toBe(code);
    expect(result.stdout).not.toContain('worker.spawned');
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(join(dir, 'a.sock'))).toBe(false);
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
