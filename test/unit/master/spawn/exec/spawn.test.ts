import { describe, expect, it } from 'vitest';
import { fdName } from '../../../../../src/master/spawn/exec/spawn.js';

describe('LISTEN_FDNAMES entries (--exec)', () => {
  it.each([
    [{ kind: 'tcp', host: '127.0.0.1', port: 3000 }, undefined, '127.0.0.1_3000'],
    [{ kind: 'tcp', host: '::', port: 80 }, undefined, '*_80'],
    [{ kind: 'tcp', host: '0.0.0.0', port: 80 }, undefined, '*_80'],
    [{ kind: 'tcp', host: '::1', port: 80 }, undefined, '[__1]_80'],
    [{ kind: 'unix', path: '/run/my app.sock' }, undefined, 'unix_/run/my_app.sock'],
    [{ kind: 'tcp', host: '::', port: 80 }, { fd: 3, name: 'web' }, 'web'],
    [{ kind: 'tcp', host: '::', port: 80 }, { fd: 3, name: 'unknown' }, '*_80'],
  ] as const)('%j named %j → %s', (address, inherited, expected) => {
    expect(fdName({ handle: {}, address, inherited })).toBe(expected);
  });
});
