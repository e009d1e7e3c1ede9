/**
 * Where a master's control socket lives. The master and the client compute
 * it with the same function, so `overseer upgrade --name api` finds the
 * master started with `--name api` from the same environment:
 *
 * 1. `--control <path>`, if given;
 * 2. `$XDG_RUNTIME_DIR/overseer/<name>.sock` (a per-user, 0700 directory);
 * 3. `.overseer/<name>.sock` beside the PID file, if there is one;
 * 4. `.overseer/<name>.sock` in the working directory.
 *
 * The client, not knowing which applied when the master started, tries the
 * candidates in this order and takes the first that exists.
 */
import { dirname, join, resolve } from 'node:path';

export interface ControlLocation {
  readonly control?: string | undefined;
  readonly name: string;
  readonly pidFile?: string | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface ControlCandidate {
  readonly path: string;
  /** A directory overseer creates (mode 0700) if missing; undefined for `--control`. */
  readonly ownDir: string | undefined;
}

export function controlCandidates(at: ControlLocation): ControlCandidate[] {
  if (at.control !== undefined) return [{ path: resolve(at.cwd, at.control), ownDir: undefined }];
  const file = `${at.name}.sock`;
  const candidates: ControlCandidate[] = [];
  const runtime = at.env.XDG_RUNTIME_DIR;
  if (runtime && runtime.startsWith('/')) candidates.push(inDir(join(runtime, 'overseer'), file));
  if (at.pidFile !== undefined) candidates.push(inDir(join(dirname(resolve(at.cwd, at.pidFile)), '.overseer'), file));
  candidates.push(inDir(join(at.cwd, '.overseer'), file));
  return candidates;
}

function inDir(dir: string, file: string): ControlCandidate {
  return { path: join(dir, file), ownDir: dir };
}
