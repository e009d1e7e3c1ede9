import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { parseHealthOptions } from '../../../../src/master/options/self-healing.js';
import { parseStartOptions } from '../../../../src/master/options/options.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('no error thrown');
}

describe('self-healing options', () => {
  it('defaults: hang detection at 30 s, no stack, no memory limit, no rollback window', () => {
    const options = parseStartOptions({ script: 'server.js', cwd: '/srv/app' });
    expect(options).toMatchObject({ hangTimeoutMs: 30_000, hangStack: false, maxMemoryBytes: 0, rollbackWindowMs: 0 });
  });

  it('reads each option', () => {
    expect(parseHealthOptions({ hangTimeout: '5000', hangStack: true, maxMemory: '512M', rollbackWindow: '60000' }, false, 'linux'))
      .toEqual({ hangTimeoutMs: 5_000, hangStack: true, maxMemoryBytes: 512 * 1024 ** 2, rollbackWindowMs: 60_000 });
    expect(parseHealthOptions({ hangTimeout: 0, maxMemory: '0', rollbackWindow: 0 }, false, 'linux'))
      .toEqual({ hangTimeoutMs: 0, hangStack: false, maxMemoryBytes: 0, rollbackWindowMs: 0 });
  });

  it('turns hang detection off for --exec workers, which send no heartbeat', () => {
    expect(parseHealthOptions({}, true, 'linux').hangTimeoutMs).toBe(0);
    expect(parseHealthOptions({ hangTimeout: '0', maxMemory: '1G' }, true, 'linux').maxMemoryBytes).toBe(1024 ** 3);
  });

  it.each<[string, Parameters<typeof parseHealthOptions>[0], boolean, string]>([
    ['--hang-timeout', { hangTimeout: 'soon' }, false, '`soon`'],
    ['--hang-timeout', { hangTimeout: '-1' }, false, '`-1`'],
    ['--hang-timeout', { hangTimeout: '50' }, false, '`50`'],
    ['--hang-timeout', { hangTimeout: '5000' }, true, '`5000`'],
    ['--hang-stack', { hangTimeout: '0', hangStack: true }, false, '`0`'],
    ['--hang-stack', { hangStack: true }, true, '--exec'],
    ['--max-memory', { maxMemory: 'lots' }, false, '`lots`'],
    ['--max-memory', { maxMemory: '-1G' }, false, '`-1G`'],
    ['--max-memory', { maxMemory: '1M' }, false, '`1M`'],
    ['--rollback-window', { rollbackWindow: '1m' }, false, '`1m`'],
    ['--rollback-window', { rollbackWindow: '60000' }, true, '`60000`'],
  ])('%s: %j (exec %s) is refused, naming the value', (option, raw, exec, named) => {
    const message = configError(() => parseHealthOptions(raw, exec, 'linux')).message;
    expect(message).toMatch(new RegExp(`^${option} `));
    expect(message).toContain(named);
  });

  it('refuses --max-memory where /proc is missing', () => {
    expect(configError(() => parseHealthOptions({ maxMemory: '1G' }, false, 'darwin')).message).toMatch(/^--max-memory needs Linux .*`1G` on darwin$/);
  });
});
