import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { DEFAULTS, MAX_WORKERS, type RawStartOptions, parseStartOptions } from '../../../../src/master/options/options.js';
import { parseListenAddress } from '../../../../src/master/options/parse-address.js';

const CWD = '/srv/app';
const parse = (raw: Partial<RawStartOptions>) => parseStartOptions({ script: 'server.js', cwd: CWD, ...raw });

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_INVALID_OPTION');
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('parseListenAddress', () => {
  it.each([
    ['3000', { kind: 'tcp', host: undefined, port: 3000 }],
    [':3000', { kind: 'tcp', host: undefined, port: 3000 }],
    ['*:3000', { kind: 'tcp', host: undefined, port: 3000 }],
    ['127.0.0.1:3000', { kind: 'tcp', host: '127.0.0.1', port: 3000 }],
    ['[::1]:3000', { kind: 'tcp', host: '::1', port: 3000 }],
    ['localhost:3000', { kind: 'tcp', host: 'localhost', port: 3000 }],
    ['0', { kind: 'tcp', host: undefined, port: 0 }],
    ['  8080  ', { kind: 'tcp', host: undefined, port: 8080 }],
    ['unix:/tmp/x.sock', { kind: 'unix', path: '/tmp/x.sock' }],
  ])('%j → %j', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['abc', '::1:3000', '127.0.0.1:99999', 'unix:', '[nope]:1', '70000', 'host:abc', 'bad_host!:80', '[::1]:99999', ''])(
    'rejects %j, naming --listen and the value',
    (text) => {
      const error = configError(() => parseListenAddress(text));
      expect(error.message).toContain('--listen');
      expect(error.message).toContain(`\`${text}\``);
    },
  );
});

describe('parseStartOptions: valid input', () => {
  it('applies the defaults', () => {
    expect(parse({})).toMatchObject({
      script: 'server.js', cwd: CWD, listen: [], workers: 1, waitReady: false,
      readyTimeoutMs: DEFAULTS.readyTimeoutMs, drainTimeoutMs: DEFAULTS.drainTimeoutMs, killTimeoutMs: DEFAULTS.killTimeoutMs,
      watch: [], watchDebounceMs: DEFAULTS.watchDebounceMs, pidFile: undefined, name: 'overseer', logLevel: 'info',
      nodeArgs: [], scriptArgs: [], restartDelayMs: DEFAULTS.restartDelayMs, restartDelayMaxMs: DEFAULTS.restartDelayMaxMs,
      closeSpreadMs: 2_000, websocketClose: true,
    });
  });

  it.each<[Partial<RawStartOptions>, Record<string, unknown>]>([
    [{ workers: '4' }, { workers: 4 }],
    [{ workers: 3 }, { workers: 3 }],
    [{ workers: ' 2 ' }, { workers: 2 }],
    [{ readyTimeout: '250' }, { readyTimeoutMs: 250 }],
    [{ drainTimeout: 0, killTimeout: '0' }, { drainTimeoutMs: 0, killTimeoutMs: 0 }],
    [{ watchDebounce: '0' }, { watchDebounceMs: 0 }],
    [{ closeSpread: '0', websocketClose: false }, { closeSpreadMs: 0, websocketClose: false }],
    [{ closeSpread: 500 }, { closeSpreadMs: 500 }],
    [{ restartDelay: 50, restartDelayMax: 10 }, { restartDelayMs: 50, restartDelayMaxMs: 50 }],
    [{ restartDelay: '50', restartDelayMax: '5000' }, { restartDelayMs: 50, restartDelayMaxMs: 5_000 }],
    [{ listen: ['3000', 'unix:run/app.sock'] }, { listen: [{ kind: 'tcp', host: undefined, port: 3000 }, { kind: 'unix', path: '/srv/app/run/app.sock' }] }],
    [{ pidFile: 'run/app.pid' }, { pidFile: '/srv/app/run/app.pid' }],
    [{ watch: true }, { watch: ['/srv/app/server.js'] }],
    [{ watch: ['src', '/etc/app.conf'] }, { watch: ['/srv/app/src', '/etc/app.conf'] }],
    [{ logLevel: 'debug', logFormat: 'json', name: 'api' }, { logLevel: 'debug', logFormat: 'json', name: 'api' }],
    [{ nodeArg: ['--max-old-space-size=512'], scriptArgs: ['--flag'] }, { nodeArgs: ['--max-old-space-size=512'], scriptArgs: ['--flag'] }],
  ])('%j → %j', (raw, expected) => {
    expect(parse(raw)).toMatchObject(expected);
  });

  it('--workers max gives the CPU count, at most MAX_WORKERS', () => {
    expect(parse({ workers: 'max' }).workers).toBe(Math.min(availableParallelism(), MAX_WORKERS));
    expect(parse({ workers: String(MAX_WORKERS) }).workers).toBe(MAX_WORKERS);
  });

  it.each([
    [['127.0.0.1:3000', '[::1]:3000']],
    [['10.0.0.1:3000', '10.0.0.2:3000']],
    [['127.0.0.1:0', '127.0.0.1:0']],
    [['0', '0']],
    [['3000', '3001', 'unix:a.sock', 'unix:b.sock']],
  ])('--listen %j: distinct listeners', (listen) => {
    expect(parse({ listen }).listen).toHaveLength(listen.length);
  });

  it.each([
    ['--require=./setup.js'],
    ['-r'],
    ['--expose-gc'],
    ['--watch-preserve-output'],
  ])('--node-arg %j is passed on as given', (arg) => {
    expect(parse({ nodeArg: [arg] }).nodeArgs).toEqual([arg]);
  });

  it('returns a frozen object with frozen lists', () => {
    const options = parse({ listen: ['3000'], watch: ['src'], nodeArg: ['--x'], scriptArgs: ['a'] });
    expect(Object.isFrozen(options)).toBe(true);
    for (const list of [options.listen, options.watch, options.nodeArgs, options.scriptArgs]) expect(Object.isFrozen(list)).toBe(true);
    expect(() => {
      (options as { workers: number }).workers = 9;
    }).toThrow(TypeError);
  });
});

describe('parseStartOptions: invalid input', () => {
  it.each<[string, Partial<RawStartOptions>, string]>([
    ['--workers', { workers: 0 }, '0'],
    ['--workers', { workers: 'abc' }, 'abc'],
    ['--workers', { workers: '1.5' }, '1.5'],
    ['--workers', { workers: -2 }, '-2'],
    ['--workers', { workers: 'MAX' }, 'MAX'],
    ['--ready-timeout', { readyTimeout: '0' }, '0'],
    ['--ready-timeout', { readyTimeout: '10s' }, '10s'],
    ['--drain-timeout', { drainTimeout: 'abc' }, 'abc'],
    ['--drain-timeout', { drainTimeout: '99999999999999999999' }, '99999999999999999999'],
    ['--kill-timeout', { killTimeout: '-1' }, '-1'],
    ['--watch-debounce', { watchDebounce: 'soon' }, 'soon'],
    ['--close-spread', { closeSpread: '2s' }, '2s'],
    ['--close-spread', { closeSpread: -1 }, '-1'],
    ['--restart-delay', { restartDelay: 0 }, '0'],
    ['--restart-delay-max', { restartDelayMax: 'x' }, 'x'],
    ['--log-level', { logLevel: 'loud' }, 'loud'],
    ['--log-format', { logFormat: 'xml' }, 'xml'],
    ['--listen', { listen: ['3000', 'abc'] }, 'abc'],
    ['--name', { name: 'my app' }, 'my app'],
    ['--name', { name: '../etc' }, '../etc'],
    ['--ready-delay', { readyDelay: '500' }, '500'],
    ['--ready-delay', { exec: true, readyDelay: 'soon' }, 'soon'],
    ['--node-arg', { exec: true, nodeArg: ['--inspect'] }, '--inspect'],
    ['--watch', { exec: true, watch: true }, 'server.js'],
    ['--workers', { workers: '99999999999' }, '99999999999'],
    ['--workers', { workers: MAX_WORKERS + 1 }, String(MAX_WORKERS + 1)],
    ['--node-arg', { nodeArg: ['app.js'] }, 'app.js'],
    ['--node-arg', { nodeArg: ['--max-old-space-size', '512'] }, '512'],
    ['--node-arg', { nodeArg: ['-'] }, '-'],
    ['--node-arg', { nodeArg: ['--'] }, '--'],
    ['--node-arg', { nodeArg: ['--eval=1'] }, '--eval=1'],
    ['--node-arg', { nodeArg: ['-e'] }, '-e'],
    ['--node-arg', { nodeArg: ['--watch'] }, '--watch'],
    ['--node-arg', { nodeArg: ['--test'] }, '--test'],
  ])('%s: %j', (option, raw, value) => {
    const error = configError(() => parse(raw));
    expect(error.message).toContain(option);
    expect(error.message).toContain(`\`${value}\``);
  });

  it('says which option format is expected for integers', () => {
    expect(configError(() => parse({ drainTimeout: 'abc' })).message).toMatch(/^--drain-timeout must be a non-negative integer\b.*got `abc`$/);
    expect(configError(() => parse({ workers: '0' })).message).toMatch(/^--workers must be an integer >= 1\b.*got `0`$/);
  });

  it.each([
    ['3000', '3000', /are the same address \(all interfaces, port 3000\)/],
    ['3000', '*:3000', /are the same address \(all interfaces, port 3000\)/],
    [':3000', '0.0.0.0:3000', /are the same address/],
    ['127.0.0.1:3000', '127.0.0.1:3000', /are the same address \(127\.0\.0\.1:3000\)/],
    ['[::1]:3000', '[0:0::1]:3000', /are the same address \(\[::1\]:3000\)/],
    ['localhost:3000', '127.0.0.1:3000', /both use port 3000/],
    ['localhost:3000', 'localhost:3000', /both use port 3000/],
    ['*:3000', '127.0.0.1:3000', /both use port 3000/],
    ['unix:./a.sock', 'unix:a.sock', /are the same socket \(unix:\/srv\/app\/a\.sock\)/],
    ['unix:/srv/app/run/../a.sock', 'unix:a.sock', /are the same socket/],
  ])('--listen %s and %s: refused, naming both', (first, second, message) => {
    const error = configError(() => parse({ listen: ['4000', first, second] }));
    expect(error.message).toMatch(/^--listen /);
    expect(error.message).toContain(`\`${first}\` and \`${second}\``);
    expect(error.message).toMatch(message);
  });

  it('requires a script', () => {
    expect(configError(() => parseStartOptions({ cwd: CWD })).message).toContain('script');
    expect(configError(() => parseStartOptions({ script: '', cwd: CWD })).message).toContain('script');
  });
});
