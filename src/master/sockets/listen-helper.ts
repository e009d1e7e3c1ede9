/**
 * Puts the master's bound sockets into the listening state: every socket the
 * master holds listens from the moment it is held, so connections wait in the
 * backlog from the first instant (no worker needed), a port already in use is
 * known at once, and `--exec` programs, which accept on the descriptor they
 * are given and never call listen(2), get listening sockets.
 *
 * The master must not listen itself: a listening handle in its own event loop
 * would accept connections. So a short-lived helper does it: `node -e` with
 * the sockets as fds 3…, which calls `net.Server#listen({ fd })` on each (a
 * synchronous listen(2)), writes one outcome per socket and exits
 * synchronously, before its event loop ever polls, so it accepts nothing.
 * A failed listen is reported by Node on the next tick, which still runs
 * before any poll. The socket stays listening after the helper exits because
 * the master's descriptor of it is still open.
 *
 * A socket is never un-listened, so each handle that listens is remembered.
 */
import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { ListenError } from '../../errors.js';

/** The helper's code: one line on stdout, `ok` or the error code for each fd, in order. */
const HELPER = `
const net = require('node:net');
const count = Number(process.argv[1]);
const outcomes = [];
for (let i = 0; i < count; i++) {
  outcomes.push('ok');
  const server = net.createServer();
  server.once('error', (error) => { outcomes[i] = error.code || 'EINVAL'; });
  server.listen({ fd: 3 + i });
}
process.nextTick(() => {
  require('node:fs').writeSync(1, outcomes.join(' ') + '\\n');
  process.exit(0);
});
`;

const HELPER_TIMEOUT_MS = 10_000;

/** A socket to put in the listening state: its descriptor and a name for errors. */
export interface ListenTarget {
  readonly handle: object;
  readonly fd: number;
  readonly label: string;
}

/** Per target, in order: undefined when it listens, else the error code (`EADDRINUSE`…). */
export type ListenOutcome = string | undefined;

const listening = new WeakSet<object>();

function options(targets: readonly ListenTarget[]): SpawnOptions {
  // NODE_OPTIONS could load code (--require) that would run in the helper's event loop.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return { env, stdio: ['ignore', 'pipe', 'pipe', ...targets.map((t) => t.fd)], timeout: HELPER_TIMEOUT_MS };
}

function outcomes(targets: readonly ListenTarget[], stdout: string, failure: () => string): ListenOutcome[] {
  const words = stdout.trim().split(' ');
  if (words.length !== targets.length) {
    const what = targets.map((t) => t.label).join(', ');
    throw new ListenError(`cannot put ${what} in the listening state: ${failure()}`);
  }
  return targets.map((target, i) => {
    if (words[i] !== 'ok') return words[i];
    listening.add(target.handle);
    return undefined;
  });
}

/** Listen on every target not listening yet, synchronously; throws if one fails. Returns how many it put into the listening state. */
export function ensureListening(targets: readonly ListenTarget[]): number {
  const todo = targets.filter((t) => !listening.has(t.handle));
  if (todo.length === 0) return 0;
  const result = spawnSync(process.execPath, ['-e', HELPER, String(todo.length)], { ...options(todo), encoding: 'utf8' });
  const detail = () => result.error?.message ?? (result.stderr.trim() || `exit ${result.status ?? result.signal}`);
  const failed = outcomes(todo, result.stdout ?? '', detail)
    .flatMap((code, i) => (code ? [`${todo[i]!.label}: ${code}`] : []));
  if (failed.length > 0) throw new ListenError(`cannot put ${failed.join(', ')} in the listening state`);
  return todo.length;
}

/**
 * Run the helper on these sockets (whether or not they listen already:
 * listen(2) again only updates the backlog), without blocking the master's
 * event loop. Resolves with each target's outcome; rejects only if the helper
 * itself failed.
 */
export function listenSockets(targets: readonly ListenTarget[]): Promise<ListenOutcome[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', HELPER, String(targets.length)], options(targets));
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout = (stdout + chunk).slice(0, 64 * 1024)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
    child.once('error', (error) => reject(new ListenError(`cannot start the listen helper: ${error.message}`, { cause: error })));
    child.once('close', (code, signal) => {
      try {
        resolve(outcomes(targets, stdout, () => stderr.trim() || `exit ${code ?? signal}`));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}
