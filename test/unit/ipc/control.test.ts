import { describe, expect, it } from 'vitest';
import { parseControlRequest } from '../../../src/ipc/control.js';
import { controlDirs, socketPathIn } from '../../../src/ipc/control-path.js';
import { MAX_SOCKET_PATH_BYTES, socketPathProblem } from '../../../src/ipc/socket-path.js';

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

describe('controlDirs', () => {
  it('$RUNTIME_DIRECTORY, then $XDG_RUNTIME_DIR/overseer, then /run/overseer for root, then ${TMPDIR:-/tmp}/overseer-<uid>', () => {
    const env = { RUNTIME_DIRECTORY: '/run/api:/run/api2', XDG_RUNTIME_DIR: '/run/user/0', TMPDIR: '/var/tmp/' };
    expect(controlDirs(env, 0)).toEqual([
      { path: '/run/api', parent: undefined },
      { path: '/run/user/0/overseer', parent: { path: '/run/user/0', shared: false } },
      { path: '/run/overseer', parent: { path: '/run', shared: true } },
      { path: '/var/tmp/overseer-0', parent: { path: '/var/tmp', shared: true } },
      { path: '/tmp/overseer-0', parent: { path: '/tmp', shared: true } },
    ]);
  });
  it('not /run for other users; an empty or relative variable is ignored', () => {
    expect(controlDirs({ XDG_RUNTIME_DIR: 'tmp', RUNTIME_DIRECTORY: '', TMPDIR: 'x' }, 1000).map((d) => d.path)).toEqual(['/tmp/overseer-1000']);
  });
});

describe('socketPathIn', () => {
  it('<name>.sock when it fits, a hash of the name when not, nothing when even that does not fit', () => {
    expect(socketPathIn('/run/user/1000/overseer', 'api')).toBe('/run/user/1000/overseer/api.sock');
    const deep = `/${'d'.repeat(MAX_SOCKET_PATH_BYTES - 30)}`;
    const hashed = socketPathIn(deep, 'a-rather-long-name-for-an-app');
    expect(hashed).toMatch(new RegExp(`^${deep}/[0-9a-f]{16}\\.sock$`));
    expect(socketPathIn(deep, 'a-rather-long-name-for-an-app')).toBe(hashed); // the client computes the same
    expect(socketPathIn(deep, 'another-rather-long-name-for-an-app')).not.toBe(hashed);
    expect(socketPathIn(`/${'d'.repeat(MAX_SOCKET_PATH_BYTES - 5)}`, 'api')).toBeUndefined();
  });
});

describe('socketPathProblem', () => {
  it('accepts a path of exactly the limit and refuses one byte more, counting bytes, not characters', () => {
    expect(socketPathProblem(`/${'a'.repeat(MAX_SOCKET_PATH_BYTES - 1)}`)).toBeUndefined();
    expect(socketPathProblem(`/${'a'.repeat(MAX_SOCKET_PATH_BYTES)}`)).toMatch(/is \d+ bytes long, over the \d+-byte limit/);
    expect(socketPathProblem(`/${'é'.repeat(60)}`)).toMatch(/is 121 bytes long/);
  });
});
