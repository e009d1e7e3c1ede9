/**
 * Puts the master's bound sockets into the listening state for `--exec`
 * programs, which (like servers started by systemd socket activation) accept
 * on the descriptor they are given and never call listen(2) themselves.
 *
 * The master must not listen itself: a listening handle in its own event loop
 * would accept connections. So a short-lived helper does it: `node -e` with
 * the sockets as fds 3…, which calls `net.Server#listen({ fd })` on each (a
 * synchronous listen(2)) and then exits synchronously, before its event loop
 * ever polls, so it accepts nothing. The socket stays listening after the
 * helper exits because the master's descriptor of it is still open; from then
 * on connections queue in its backlog whether or not a worker is alive, as
 * after the first Node worker is activated.
 *
 * Runs synchronously (spawnSync, some tens of ms) once per socket: a socket
 * is never un-listened, so each handle is remembered.
 */
import { spawnSync } from 'node:child_process';
import { ListenError } from '../errors.js';

/** The helper's code. On failure the error is emitted on the next tick, still before any poll. */
const HELPER = `
const net = require('node:net');
const count = Number(process.argv[1]);
(function listenAll() {
  for (let i = 0; i < count; i++) {
    const fd = 3 + i;
    const server = net.createServer();
    server.listen({ fd });
    if (!server.listening) {
      server.once('error', (error) => {
        process.stderr.write('fd ' + fd + ': ' + (error.code || error.message) + '\\n');
        process.exit(1);
      });
      return;
    }
  }
  process.exit(0);
})();
`;

const HELPER_TIMEOUT_MS = 10_000;

/** A socket to put in the listening state: its descriptor and a name for errors. */
export interface ListenTarget {
  readonly handle: object;
  readonly fd: number;
  readonly label: string;
}

const listening = new WeakSet<object>();

/** Listen on every target not listening yet. Returns how many it put into the listening state. */
export function ensureListening(targets: readonly ListenTarget[]): number {
  const todo = targets.filter((t) => !listening.has(t.handle));
  if (todo.length === 0) return 0;
  listenNow(todo);
  for (const target of todo) listening.add(target.handle);
  return todo.length;
}

/** Run the helper on these sockets (whether or not they listen already; listen(2) again is harmless). */
export function listenNow(targets: readonly ListenTarget[]): void {
  // NODE_OPTIONS could load code (--require) that would run in the helper's event loop.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const result = spawnSync(process.execPath, ['-e', HELPER, String(targets.length)], {
    env,
    stdio: ['ignore', 'ignore', 'pipe', ...targets.map((t) => t.fd)],
    timeout: HELPER_TIMEOUT_MS,
    encoding: 'utf8',
  });
  if (result.status === 0) return;
  const what = targets.map((t) => t.label).join(', ');
  const detail = result.error?.message ?? (result.stderr.trim() || `exit ${result.status ?? result.signal}`);
  throw new ListenError(`cannot put ${what} in the listening state: ${detail}`, { cause: result.error });
}
