import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { type UnitSpec, escapeWord, renderUnits } from '../../../src/cli/render-units.js';
import { declareAll } from '../../../src/cli/program.js';
import { START_OPTIONS, rawStartOptions, startArgv } from '../../../src/cli/start-options.js';
import { unitsFor } from '../../../src/cli/systemd-unit.js';

const SPEC: UnitSpec = {
  name: 'api',
  description: 'the API',
  node: '/usr/bin/node',
  bin: '/opt/overseer/bin/overseer.js',
  cwd: '/srv/api/current',
  script: '/srv/api/current/server.js',
  options: ['--listen=127.0.0.1:3000', '--workers=max'],
  scriptArgs: [],
  control: undefined,
  listen: [{ kind: 'tcp', host: '127.0.0.1', port: 3000 }],
  readyTimeoutMs: 30_000,
  drainTimeoutMs: 10_000,
  killTimeoutMs: 5_000,
  socket: false,
  unitUser: undefined,
  workerUser: undefined,
  version: '0.0.0',
};

/** `Key=value` settings of a unit (comments dropped, continuation lines joined). */
function settings(text: string): Array<[string, string]> {
  return text
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.includes('=') && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}
const setting = (text: string, key: string) => settings(text).filter(([k]) => k === key).map(([, v]) => v);

describe('renderUnits', () => {
  it('renders a Type=notify service that reloads with `overseer upgrade` and stops within the drain deadlines', () => {
    const { service, socket } = renderUnits(SPEC);
    expect(socket).toBeUndefined();
    expect(setting(service, 'Type')).toEqual(['notify']);
    expect(setting(service, 'NotifyAccess')).toEqual(['all']);
    expect(setting(service, 'ExecStart')).toEqual([
      '/usr/bin/node /opt/overseer/bin/overseer.js start /srv/api/current/server.js --listen=127.0.0.1:3000 --workers=max --control=%t/overseer-api/control.sock',
    ]);
    expect(setting(service, 'ExecReload')).toEqual(['/usr/bin/node /opt/overseer/bin/overseer.js upgrade --control=%t/overseer-api/control.sock']);
    expect(setting(service, 'RuntimeDirectory')).toEqual(['overseer-api']);
    expect(setting(service, 'KillMode')).toEqual(['mixed']);
    expect(setting(service, 'KillSignal')).toEqual(['SIGTERM']);
    expect(setting(service, 'TimeoutStopSec')).toEqual(['20']); // 10 s drain + 5 s kill + 5 s margin
    expect(setting(service, 'TimeoutStartSec')).toEqual(['70']); // 2 × 30 s ready + 10 s margin
    expect(setting(service, 'Restart')).toEqual(['on-failure']);
    expect(setting(service, 'WorkingDirectory')).toEqual(['/srv/api/current']);
    expect(setting(service, 'Environment')).toEqual(['PWD=/srv/api/current']);
    expect(setting(service, 'User')).toEqual([]);
    expect(setting(service, 'Requires')).toEqual([]);
    expect(service).toMatch(/Type=notify-reload/); // the comment for systemd >= 253
  });

  it('rounds the stop and start timeouts up to whole seconds', () => {
    const { service } = renderUnits({ ...SPEC, drainTimeoutMs: 1_001, killTimeoutMs: 0, readyTimeoutMs: 2_500 });
    expect(setting(service, 'TimeoutStopSec')).toEqual(['7']);
    expect(setting(service, 'TimeoutStartSec')).toEqual(['15']);
  });

  it('renders a .socket unit for every --listen address, required by the service', () => {
    const { service, socket } = renderUnits({
      ...SPEC,
      socket: true,
      listen: [
        { kind: 'tcp', host: '127.0.0.1', port: 3000 },
        { kind: 'tcp', host: '::1', port: 3001 },
        { kind: 'tcp', host: undefined, port: 80 },
        { kind: 'unix', path: '/run/api/api.sock' },
      ],
    });
    expect(setting(socket!, 'ListenStream')).toEqual(['127.0.0.1:3000', '[::1]:3001', '80', '/run/api/api.sock']);
    expect(setting(socket!, 'FileDescriptorName')).toEqual(['api']);
    expect(setting(socket!, 'WantedBy')).toEqual(['sockets.target']);
    expect(setting(service, 'Requires')).toEqual(['api.socket']);
    expect(setting(service, 'After')).toEqual(['network.target', 'api.socket']);
  });

  it.each([
    [{ kind: 'tcp', host: '127.0.0.1', port: 0 }, /fixed ports/],
    [{ kind: 'tcp', host: 'localhost', port: 3000 }, /IP addresses/],
  ] as const)('refuses a .socket unit for %j', (address, message) => {
    expect(() => renderUnits({ ...SPEC, socket: true, listen: [address] })).toThrow(message);
    expect(() => renderUnits({ ...SPEC, socket: true, listen: [] })).toThrow(ConfigError);
  });

  it('uses a given --control, and sets User= for --unit-user', () => {
    const { service } = renderUnits({ ...SPEC, control: '/run/my app/c.sock', unitUser: 'api' });
    expect(setting(service, 'ExecReload')).toEqual(['/usr/bin/node /opt/overseer/bin/overseer.js upgrade "--control=/run/my app/c.sock"']);
    expect(setting(service, 'User')).toEqual(['api']);
  });

  it('escapes words as systemd unquotes them: specifiers, variables, spaces, quotes, backslashes', () => {
    expect(escapeWord('plain')).toBe('plain');
    expect(escapeWord('50%')).toBe('50%%');
    expect(escapeWord('$HOME')).toBe('$$HOME');
    expect(escapeWord('a b')).toBe('"a b"');
    expect(escapeWord('')).toBe('""');
    expect(escapeWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(escapeWord("it's")).toBe('"it\\\'s"');
    expect(escapeWord('back\\slash')).toBe('back\\\\slash');
    expect(escapeWord(';')).toBe('\\;');
    expect(() => escapeWord('two\nlines')).toThrow(ConfigError);
    const { service } = renderUnits({ ...SPEC, scriptArgs: ['--greeting', 'hello world', '100%'] });
    expect(setting(service, 'ExecStart')[0]).toMatch(/ -- --greeting "hello world" 100%%$/);
  });
});

describe('start options in a unit', () => {
  const parse = (argv: string[]) => {
    const command = declareAll(new Command().exitOverride().argument('<script>').argument('[args...]'), START_OPTIONS);
    command.parse(argv, { from: 'user' });
    return rawStartOptions(command.args[0]!, command.args.slice(1), command.opts(), (key) => command.getOptionValueSource(key) === 'cli');
  };

  it('has a flag for every option of `start`, named as commander names its value', () => {
    const command = declareAll(new Command(), START_OPTIONS);
    expect(command.options.map((o) => o.attributeName())).toEqual(Object.keys(START_OPTIONS));
  });

  it('keeps only the options given, and writes them back as --flag=value', () => {
    const raw = parse(['app.js', '-l', '3000', '--workers', 'max', '--wait-ready', '--node-arg', '--max-old-space-size=512', '--', 'x']);
    expect(raw).toEqual({ script: 'app.js', scriptArgs: ['x'], listen: ['3000'], workers: 'max', waitReady: true, nodeArg: ['--max-old-space-size=512'] });
    expect(startArgv(raw)).toEqual(['--listen=3000', '--workers=max', '--wait-ready', '--node-arg=--max-old-space-size=512']);
  });

  it('writes a negated flag back only when it turns its default off', () => {
    const raw = parse(['app.js', '--close-spread', '500', '--no-websocket-close']);
    expect(raw).toEqual({ script: 'app.js', scriptArgs: [], closeSpread: '500', websocketClose: false });
    expect(startArgv(raw)).toEqual(['--close-spread=500', '--no-websocket-close']);
    expect(startArgv({ script: 'app.js', websocketClose: true })).toEqual([]);
  });

  it('makes paths absolute against the working directory and validates like start', () => {
    const units = unitsFor(
      parse(['app.js', '-l', 'unix:run/api.sock', '--pid-file', 'api.pid', '--watch', 'src', 'lib', '--name', 'api']),
      { socket: true, description: undefined, unitUser: undefined, outDir: undefined },
      '/srv/api',
    );
    expect(setting(units.service, 'ExecStart')[0]).toContain(
      ' start /srv/api/app.js --listen=unix:/srv/api/run/api.sock --watch=/srv/api/src --watch=/srv/api/lib --pid-file=/srv/api/api.pid --name=api --control=%t/overseer-api/control.sock',
    );
    expect(setting(units.socket!, 'ListenStream')).toEqual(['/srv/api/run/api.sock']);
    const unit = { socket: false, description: undefined, unitUser: undefined, outDir: undefined };
    expect(() => unitsFor(parse(['app.js', '--drain-timeout', 'soon']), unit, '/srv/api')).toThrow(/--drain-timeout must be/);
    expect(() => unitsFor(parse(['app.js', '--name', 'my api']), unit, '/srv/api')).toThrow(/--name must be/);
    expect(() => unitsFor(parse(['app.js', '--user', 'www-data']), { ...unit, unitUser: 'api' }, '/srv/api')).toThrow(/give one of them/);
  });
});
