import { describe, expect, it } from 'vitest';
import { planListen } from '../../../src/worker/listen-args.js';

const cb = () => {};
const tcp = (port: number, host?: string) => ({ kind: 'tcp', host, port });
const unix = (path: string) => ({ kind: 'unix', path });

describe('planListen: routed to the master', () => {
  it.each<[string, unknown[], object, number | undefined]>([
    ['(3000)', [3000], tcp(3000), undefined],
    ["('3000')", ['3000'], tcp(3000), undefined],
    ["(3000, '127.0.0.1')", [3000, '127.0.0.1'], tcp(3000, '127.0.0.1'), undefined],
    ["(3000, '127.0.0.1', 511)", [3000, '127.0.0.1', 511], tcp(3000, '127.0.0.1'), 511],
    ['(3000, 64)', [3000, 64], tcp(3000), 64],
    ["(3000, '')", [3000, ''], tcp(3000), undefined],
    ["({ port: 3000, host: 'localhost' })", [{ port: 3000, host: 'localhost' }], tcp(3000, 'localhost'), undefined],
    ["({ port: '3000' })", [{ port: '3000' }], tcp(3000), undefined],
    ['({ port: 3000, backlog: 128 })', [{ port: 3000, backlog: 128 }], tcp(3000), 128],
    ["({ port: 3000, backlog: '128' })", [{ port: 3000, backlog: '128' }], tcp(3000), 128],
    ['({ port: 3000 }, 32)', [{ port: 3000 }, 32], tcp(3000), 32],
    ["('/tmp/x.sock')", ['/tmp/x.sock'], unix('/tmp/x.sock'), undefined],
    ["('/tmp/x.sock', 8)", ['/tmp/x.sock', 8], unix('/tmp/x.sock'), 8],
    ["({ path: '/tmp/x.sock' })", [{ path: '/tmp/x.sock' }], unix('/tmp/x.sock'), undefined],
    ["({ path: 'rel.sock', backlog: 7 })", [{ path: 'rel.sock', backlog: 7 }], unix('rel.sock'), 7],
  ])('%s', (_label, args, address, backlog) => {
    expect(planListen(args)).toEqual({ kind: 'master', address, backlog, callback: undefined });
  });

  it('ignores backlogs that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, 'lots']) {
      expect(planListen([3000, '127.0.0.1', bad])).toMatchObject({ kind: 'master', backlog: undefined });
    }
  });
});

describe('planListen: callbacks', () => {
  it.each<[string, unknown[]]>([
    ['(3000, cb)', [3000, cb]],
    ["(3000, '127.0.0.1', cb)", [3000, '127.0.0.1', cb]],
    ["(3000, '127.0.0.1', 511, cb)", [3000, '127.0.0.1', 511, cb]],
    ['({ port: 3000 }, cb)', [{ port: 3000 }, cb]],
    ["('/tmp/x.sock', cb)", ['/tmp/x.sock', cb]],
  ])('%s returns the callback', (_label, args) => {
    const plan = planListen(args);
    expect(plan.kind).toBe('master');
    expect(plan.kind === 'master' && plan.callback).toBe(cb);
  });

  it('keeps host and backlog when a callback follows them', () => {
    expect(planListen([3000, '127.0.0.1', 511, cb])).toEqual({ kind: 'master', address: tcp(3000, '127.0.0.1'), backlog: 511, callback: cb });
  });
});

describe('planListen: left to Node, saying how', () => {
  const handle = {};
  it.each<[string, unknown[], string]>([
    ['(0)', [0], 'port-0'],
    ['()', [], 'port-0'],
    ['(cb)', [cb], 'port-0'],
    ['(0, cb)', [0, cb], 'port-0'],
    ['(-1)', [-1], 'port-0'],
    ['(70000)', [70000], 'port-0'],
    ['({ port: 0 })', [{ port: 0 }], 'port-0'],
    ["({ port: 'http' })", [{ port: 'http' }], 'port-0'],
    ['({ fd: 3 })', [{ fd: 3 }], 'fd'],
    ['({ handle })', [{ handle }], 'handle'],
    ['(handle-like { _handle })', [{ _handle: handle }], 'handle'],
    ["('\\0abstract')", ['\0abstract'], 'abstract'],
    ["({ path: '\\0abstract' })", [{ path: '\0abstract' }], 'abstract'],
    ["({ host: 'localhost' })", [{ host: 'localhost' }], 'port-0'],
    ["('')", [''], 'port-0'],
    ['(null)', [null], 'port-0'],
  ])('%s → %s', (_label, args, via) => {
    expect(planListen(args)).toEqual({ kind: 'passthrough', via });
  });
});
