/**
 * The master's side of where its control socket lives (control-path.ts has
 * the order; trusted-dir.ts the checks): choose the path before anything is
 * created, create our directory only when the socket is bound into it, and
 * remove that directory again when it is empty, so neither a failed start
 * nor a stop leaves one behind.
 */
import { OverseerError, systemCode } from '../../errors.js';
import { type ControlCandidate, type ControlDir, controlDirs, socketPathIn } from '../../ipc/control-path.js';
import { controlDirProblem, ownDirProblem } from '../../ipc/trusted-dir.js';

const { mkdirSync, rmdirSync } = process.getBuiltinModule('node:fs');

export interface SkippedDir {
  readonly dir: string;
  /** Why, as a sentence (trusted-dir.ts). */
  readonly message: string;
}

export interface ControlChoice {
  readonly where: ControlCandidate;
  /** Default directories passed over, and why (logged as `control.dir-skipped`). */
  readonly skipped: readonly SkippedDir[];
}

/** `--control` as given (already validated), else the first usable default directory. Creates nothing. */
export function chooseControlPath(control: string | undefined, name: string, env: NodeJS.ProcessEnv, uid: number): ControlChoice {
  if (control !== undefined) return { where: { path: control, dir: undefined }, skipped: [] };
  const skipped: SkippedDir[] = [];
  for (const dir of controlDirs(env, uid)) {
    const problem = controlDirProblem(dir, uid);
    const path = problem === undefined ? socketPathIn(dir.path, name) : undefined;
    if (path !== undefined) return { where: { path, dir }, skipped };
    skipped.push({ dir: dir.path, message: problem ?? 'a socket path in it would be over the unix limit' });
  }
  const why = skipped.map((s) => `${s.dir}: ${s.message}`).join('; ');
  throw new OverseerError('ERR_CONTROL', `no usable directory for the control socket (${why}); pass --control <path>`);
}

/**
 * Create `dir` (mode 0700) if overseer makes it, and check that it is ours
 * and private either way. mkdir is not recursive: the parent was checked.
 */
export function makeControlDir(dir: ControlDir, uid: number): void {
  if (dir.parent !== undefined) {
    try {
      mkdirSync(dir.path, { mode: 0o700 });
    } catch (cause) {
      if (systemCode(cause) !== 'EEXIST') {
        throw new OverseerError('ERR_CONTROL', `cannot create control socket directory ${dir.path}: ${systemCode(cause) ?? String(cause)}`, { cause });
      }
    }
  }
  const problem = ownDirProblem(dir.path, uid);
  if (problem !== undefined) throw new OverseerError('ERR_CONTROL', `control socket directory cannot be used: ${problem}`);
}

/**
 * Remove a directory overseer makes, if it is still ours and empty (rmdir
 * fails on one that is not, and never follows a link); another master's
 * socket in it keeps it.
 */
export function removeControlDir(dir: ControlDir, uid: number): void {
  if (dir.parent === undefined || ownDirProblem(dir.path, uid) !== undefined) return;
  try {
    rmdirSync(dir.path);
  } catch {
    // not empty (another master uses it) or already gone
  }
}
