/**
 * `overseer systemd-unit` end to end: the real CLI writes the units, and
 * systemd's own parser (`systemd-analyze verify`, when this host has it)
 * reads them without a single complaint.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/master.js';
import { tempDir } from '../helpers/processes.js';

function overseer(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const hasAnalyze = analyze.status === 0;

function writeUnits(): { dir: string; service: string; socket: string; stdout: string } {
  const dir = tempDir('overseer-unit-');
  mkdirSync(join(dir, 'app'));
  const args = [
    'systemd-unit', 'server.js', '--listen', '127.0.0.1:3000', '--listen', 'unix:run/api.sock', '--name', 'api',
    '--workers', 'max', '--drain-timeout', '10000', '--out-dir', dir,
    '--', 'hello world', '50%', '$HOME', "it's", 'say "hi"', ';',
  ];
  const { code, stdout, stderr } = overseer(args, join(dir, 'app'));
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return { dir, stdout, service: readFileSync(join(dir, 'api.service'), 'utf8'), socket: readFileSync(join(dir, 'api.socket'), 'utf8') };
}

describe('overseer systemd-unit', () => {
  it('writes a service running this node, this overseer and the absolute script with the options given, and (by default) a socket unit', () => {
    const { dir, stdout, service, socket } = writeUnits();
    const app = join(dir, 'app');
    expect(stdout).toContain(`wrote ${join(dir, 'api.service')}\nwrote ${join(dir, 'api.socket')}\n`);
    const execStart = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(service)![1]!.replace(/\s*\\\n\s*/g, ' ');
    expect(execStart).toBe(
      `${process.execPath} ${BIN} start ${app}/server.js --listen=127.0.0.1:3000 --listen=unix:${app}/run/api.sock --workers=max ` +
        '--drain-timeout=10000 --name=api --control=%t/overseer-api/control.sock -- "hello world" 50%% $$HOME "it\\\'s" "say \\"hi\\"" \\;',
    );
    expect(service).toContain(`ExecReload=${process.execPath} ${BIN} upgrade --control=%t/overseer-api/control.sock\n`);
    expect(service).toMatch(/^Type=notify$/m);
    expect(service).toMatch(/^NotifyAccess=all$/m);
    expect(service).toMatch(/^KillMode=mixed$/m);
    expect(service).toMatch(/^TimeoutStopSec=20$/m);
    expect(service).toMatch(/^Requires=api\.socket$/m);
    expect(service).toContain(`WorkingDirectory=${app}\n`);
    expect(socket).toContain(`ListenStream=127.0.0.1:3000\nListenStream=${app}/run/api.sock\nFileDescriptorName=api\n`);
  });

  it('prints the units when no --out-dir is given, the .socket unit unless --no-socket, and rejects bad options with exit code 2', () => {
    const dir = tempDir('overseer-unit-');
    const printed = overseer(['systemd-unit', 'server.js', '--listen', '3000'], dir);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^# overseer\.service/);
    expect(printed.stdout.replace(/\s*\\\n\s*/g, ' ')).toContain(` start ${dir}/server.js --listen=*:3000 --control=%t/overseer-overseer/control.sock\n`);
    expect(printed.stdout).toContain('\n# overseer.socket');
    expect(printed.stdout).toMatch(/^ListenStream=3000$/m);
    const noSocket = overseer(['systemd-unit', 'server.js', '--listen', '3000', '--no-socket'], dir);
    expect(noSocket.code).toBe(0);
    expect(noSocket.stdout).not.toContain('[Socket]');
    expect(noSocket.stdout).not.toContain('Requires=');
    const noListen = overseer(['systemd-unit', 'server.js'], dir);
    expect(noListen.code).toBe(2);
    expect(noListen.stderr).toBe('overseer: the .socket unit holds the --listen addresses: give at least one --listen, or --no-socket to let the master bind what the app asks for');
    expect(overseer(['systemd-unit', 'server.js', '--no-socket'], dir).code).toBe(0);
    const bad = overseer(['systemd-unit', 'server.js', '--drain-timeout', 'soon'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('overseer: --drain-timeout must be a non-negative integer, got `soon`');
    const port0 = overseer(['systemd-unit', 'server.js', '--listen', '127.0.0.1:0'], dir);
    expect(port0.code).toBe(2);
    expect(port0.stderr).toMatch(/the \.socket unit needs fixed ports: .*\(or give --no-socket\)$/);
  });

  it.skipIf(!hasAnalyze)('passes `systemd-analyze verify` without a warning', () => {
    const { dir } = writeUnits();
    const verify = spawnSync('systemd-analyze', ['verify', join(dir, 'api.service'), join(dir, 'api.socket')], { cwd: ROOT, encoding: 'utf8' });
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
  });
});
