/**
 * Where a master's control socket lives. The master and the client compute
 * it with the same functions, so `overseer upgrade --name api` finds the
 * master started with `--name api` from the same environment.
 *
 * `--control <path>` wins. Otherwise the socket goes in the first of these
 * directories that is safe to use (trusted-dir.ts):
 *
 * 1. `$RUNTIME_DIRECTORY` (systemd's `RuntimeDirectory=`; the first if several);
 * 2. `$XDG_RUNTIME_DIR/overseer`;
 * 3. `/run/overseer`, when running as root;
 * 4. `${TMPDIR:-/tmp}/overseer-<uid>`, then `/tmp/overseer-<uid>`.
 *
 * The file is `<name>.sock`, or `<hash of name>.sock` where that would be
 * over the unix socket path limit; a directory where even that is too long
 * is skipped. So a default never stops `start`: the last candidate is short.
 *
 * `--pid-file` does not change the location: the master records the path it
 * used beside the PID file (control-record.ts), and the client with
 * `--pid-file` reads it there.
 */
import { join, resolve } from 'node:path';
import { socketPathProblem } from './socket-path.js';

export interface ControlDir {
  readonly path: string;
  /**
   * For a directory overseer creates (mode 0700) and removes when empty: the
   * directory it is created in, and how that one must be held (trusted-dir.ts).
   * Undefined for a directory given by the environment, used as it is.
   */
  readonly parent: { readonly path: string; readonly shared: boolean } | undefined;
}

export interface ControlCandidate {
  readonly path: string;
  /** Undefined for a path given with `--control` or recorded beside a PID file. */
  readonly dir: ControlDir | undefined;
}

/** The default directories, in order of preference, for a process with effective uid `uid`. */
export function controlDirs(env: NodeJS.ProcessEnv, uid: number): ControlDir[] {
  const dirs: ControlDir[] = [];
  const systemd = env.RUNTIME_DIRECTORY?.split(':')[0];
  if (systemd?.startsWith('/')) dirs.push({ path: systemd, parent: undefined });
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith('/')) dirs.push({ path: join(xdg, 'overseer'), parent: { path: xdg, shared: false } });
  if (uid === 0 && process.platform === 'linux') dirs.push({ path: '/run/overseer', parent: { path: '/run', shared: true } });
  const tmp = env.TMPDIR?.startsWith('/') ? resolve(env.TMPDIR) : '/tmp';
  dirs.push({ path: join(tmp, `overseer-${uid}`), parent: { path: tmp, shared: true } });
  if (tmp !== '/tmp') dirs.push({ path: `/tmp/overseer-${uid}`, parent: { path: '/tmp', shared: true } });
  return dirs;
}

/**
 * The socket path for `name` in `dir`: readable when it fits, else named by
 * a hash of the name; undefined when even that does not fit.
 */
export function socketPathIn(dir: string, name: string): string | undefined {
  const readable = join(dir, `${name}.sock`);
  if (!socketPathProblem(readable)) return readable;
  const hashed = join(dir, `${sha256Hex(name).slice(0, 16)}.sock`);
  return socketPathProblem(hashed) ? undefined : hashed;
}

/**
 * node:crypto is loaded only for a name too long to be readable: the master
 * and the clients otherwise never load it, which costs a process about 1 MB
 * of memory (docs/benchmarks.md, footprint) and the CLI ~3 ms of start-up.
 */
function sha256Hex(text: string): string {
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}

/** Every default candidate for `name` (those whose path cannot fit are left out). */
export function defaultCandidates(name: string, env: NodeJS.ProcessEnv, uid: number): ControlCandidate[] {
  const candidates: ControlCandidate[] = [];
  for (const dir of controlDirs(env, uid)) {
    const path = socketPathIn(dir.path, name);
    if (path !== undefined) candidates.push({ path, dir });
  }
  return candidates;
}
