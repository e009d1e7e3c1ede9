import { describe, expect, it } from 'vitest';
import { parseControlRequest } from '../../src/ipc/control.js';
import { controlCandidates } from '../../src/ipc/control-path.js';
import { MAX_SOCKET_PATH_BYTES, socketPathProblem } from '../../src/ipc/socket-path.js';

describe('parseControlRequest', () => {
  it.each([
    ['{"v":1,"id":1,"type":"upgrade"}', { ok: true, request: { v: 1, id: 1, type: 'upgrade' } }],
    ['{"v":1,"id":2,"type":"status","extra":true}', { ok: true, request: { v: 1, id: 2, type: 'status' } }],
    ['{"v":1,"id":3,"type":"stop"}', { ok: true, request: { v: 1, id: 3, type: 'stop' } }],
    ['nope', { ok: false, id: null, code: 'bad-json' }],
    ['null', { ok: false, id: null, code: 'bad-request' }],
    ['"status"', { ok: false, id: null, code: 'bad-request' }],
    ['[]', { ok: false, id: null, code: 'bad-request' }],
    ['{"v":1,"type":"status"}', { ok: false, id: null, code: 'bad-request' }],
    ['{"v":1,"id":1.5,"type":"status"}', { ok: false, id: null, code: 'bad-request' }],
    ['{"v":"1","id":4,"type":"status"}', { ok: false, id: 4, code: 'unsupported-version' }],
    ['{"id":5,"type":"status"}', { ok: false, id: 5, code: 'unsupported-version' }],
    ['{"v":1,"id":6,"type":"toString"}', { ok: false, id: 6, code: 'unknown-request' }],
    ['{"v":1,"id":7}', { ok: false, id: 7, code: 'unknown-request' }],
  ])('%s', (line, expected) => {
    expect(parseControlRequest(line)).toMatchObject(expected);
  });
});

describe('controlCandidates', () => {
  const base = { name: 'api', cwd: '/srv/app', env: {} };
  it('--control wins, resolved against the working directory', () => {
    expect(controlCandidates({ ...base, control: 'run/c.sock', env: { XDG_RUNTIME_DIR: '/run/user/1000' } })).toEqual([
      { path: '/srv/app/run/c.sock', ownDir: undefined },
    ]);
  });
  it('then $XDG_RUNTIME_DIR, then beside the PID file, then the working directory', () => {
    expect(controlCandidates({ ...base, pidFile: '/var/run/api.pid', env: { XDG_RUNTIME_DIR: '/run/user/1000' } }).map((c) => c.path)).toEqual([
      '/run/user/1000/overseer/api.sock',
      '/var/run/.overseer/api.sock',
      '/srv/app/.overseer/api.sock',
    ]);
  });
  it('ignores an empty or relative $XDG_RUNTIME_DIR', () => {
    expect(controlCandidates({ ...base, env: { XDG_RUNTIME_DIR: '' } }).map((c) => c.path)).toEqual(['/srv/app/.overseer/api.sock']);
    expect(controlCandidates({ ...base, env: { XDG_RUNTIME_DIR: 'tmp' } }).map((c) => c.path)).toEqual(['/srv/app/.overseer/api.sock']);
  });
});

describe('socketPathProblem', () => {
  it('accepts a path of exactly the limit and refuses one byte more, counting bytes, not characters', () => {
    expect(socketPathProblem(`/${'a'.repeat(MAX_SOCKET_PATH_BYTES - 1)}`)).toBeUndefined();
    expect(socketPathProblem(`/${'a'.repeat(MAX_SOCKET_PATH_BYTES)}`)).toMatch(/is \d+ bytes long, over the \d+-byte limit/);
    expect(socketPathProblem(`/${'é'.repeat(60)}`)).toMatch(/is 121 bytes long/);
  });
});
