import { describe, expect, it } from 'vitest';
import { ListenError } from '../../../../src/errors.js';
import { Listeners, sameListener } from '../../../../src/master/sockets/listeners.js';
import { type InheritedSocket, parseActivationEnv, takeInheritedSockets, unixPath } from '../../../../src/master/systemd/socket-activation.js';

describe('parseActivationEnv', () => {
  it('names fds 3… for this pid, with names from LISTEN_FDNAMES, and removes the variables', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '3', LISTEN_PID: '42', LISTEN_FDNAMES: 'web:admin', OTHER: 'x' };
    expect(parseActivationEnv(env, 42)).toEqual([
      { fd: 3, name: 'web' },
      { fd: 4, name: 'admin' },
      { fd: 5, name: 'unknown' },
    ]);
    expect(env).toEqual({ OTHER: 'x' });
  });

  it('ignores (and still removes) variables meant for another process', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '41' };
    expect(parseActivationEnv(env, 42)).toEqual([]);
    expect(env).toEqual({});
    expect(parseActivationEnv({ LISTEN_FDS: '1' }, 42)).toEqual([]);
  });

  it('rejects a malformed LISTEN_FDS', () => {
    expect(() => parseActivationEnv({ LISTEN_FDS: 'two', LISTEN_PID: '42' }, 42)).toThrow(ListenError);
  });

  it('refuses a passed descriptor that is not a socket, naming it', () => {
    const info = { target: () => '/dev/null', unixTable: () => '' };
    expect(() => takeInheritedSockets({ LISTEN_FDS: '1', LISTEN_PID: '7', LISTEN_FDNAMES: 'web' }, 7, info)).toThrow(/fd 3 \(web\): it is \/dev\/null, not a socket/);
  });
});

describe('unixPath', () => {
  const table = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 1001 /run/app/app.sock',
    '0000000000000000: 00000002 00000000 00010000 0001 01 1002 @abstract',
    '0000000000000000: 00000003 00000000 00000000 0001 03 1003',
    '',
  ].join('\n');

  it('finds the path bound to an inode, abstract names included', () => {
    expect(unixPath('1001', table)).toBe('/run/app/app.sock');
    expect(unixPath('1002', table)).toBe('@abstract');
    expect(unixPath('1003', table)).toBeUndefined();
    expect(unixPath('100', table)).toBeUndefined();
  });
});

describe('Listeners.bindConfigured with inherited sockets', () => {
  const handle = () => ({ closed: 0, close() { this.closed++; } });
  const inherited = (fd: number, address: InheritedSocket['address']) =>
    ({ handle: handle(), address, inherited: { fd, name: `fd${fd}` } }) satisfies InheritedSocket;

  it('lets an inherited socket stand for the --listen address it matches (TCP by port, unix by path), and holds the rest as passed', async () => {
    const tcp = inherited(3, { kind: 'tcp', host: '::', port: 8080 });
    const unix = inherited(4, { kind: 'unix', path: '/run/app.sock' });
    const extra = inherited(5, { kind: 'tcp', host: '127.0.0.1', port: 9090 });
    const listeners = new Listeners('/srv');
    // No address is bound: binding port 8080 or the socket path here would fail the test run or leave files.
    await listeners.bindConfigured([{ kind: 'unix', path: '/run/app.sock' }, { kind: 'tcp', host: '127.0.0.1', port: 8080 }], [tcp, unix, extra]);
    expect(listeners.all.map((l) => [l.key, l.configured, l.inherited?.fd, l.inherited?.serves])).toEqual([
      ['unix:/run/app.sock', true, 4, { kind: 'unix', path: '/run/app.sock' }],
      ['[::]:8080', true, 3, { kind: 'tcp', host: '127.0.0.1', port: 8080 }],
      ['127.0.0.1:9090', true, 5, undefined],
    ]);
    expect(listeners.all[1]!.handle).toBe(tcp.handle);
    expect(await listeners.acquire({ kind: 'tcp', host: undefined, port: 9090 })).toBe(listeners.all[2]);
  });

  it('closes the inherited sockets when a --listen address cannot be bound', async () => {
    const tcp = inherited(3, { kind: 'tcp', host: '127.0.0.1', port: 8080 });
    const extra = inherited(4, { kind: 'tcp', host: '127.0.0.1', port: 9090 });
    const listeners = new Listeners('/srv');
    const tooLong = { kind: 'unix', path: `/${'x'.repeat(200)}` } as const;
    await expect(listeners.bindConfigured([{ kind: 'tcp', host: undefined, port: 8080 }, tooLong], [tcp, extra])).rejects.toThrow(ListenError);
    expect(tcp.handle.closed).toBe(1); // held, then released
    expect(extra.handle.closed).toBe(1); // not held yet
    expect(listeners.all).toEqual([]);
  });

  it('matches TCP by port and unix by path only', () => {
    expect(sameListener({ kind: 'tcp', host: '::', port: 80 }, { kind: 'tcp', host: undefined, port: 80 })).toBe(true);
    expect(sameListener({ kind: 'tcp', host: '::', port: 80 }, { kind: 'tcp', host: '::', port: 81 })).toBe(false);
    expect(sameListener({ kind: 'unix', path: '/a' }, { kind: 'unix', path: '/a' })).toBe(true);
    expect(sameListener({ kind: 'unix', path: '/a' }, { kind: 'tcp', host: undefined, port: 80 })).toBe(false);
  });
});
