/**
 * Which directories overseer trusts with its control socket. The master
 * often runs as root and other local users share `/tmp`; a directory that
 * another user can write, or a symbolic link that another user planted,
 * would let them swap what root creates, connects to or removes.
 *
 * Every check uses `lstat`: a path whose last component is a symbolic link
 * is refused, never followed. A directory passing `ownDirProblem` cannot be
 * changed by anyone but us (and root); its entries cannot be renamed or
 * removed by others while its parent passes `parentDirProblem`.
 */
import type { Stats } from 'node:fs';
import { systemCode } from '../errors.js';
import type { ControlDir } from './control-path.js';

const { accessSync, constants, lstatSync } = process.getBuiltinModule('node:fs');

/** The effective uid whose directories these are (0 where the OS has no uids). */
export function effectiveUid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * Why `path` may not hold our files, or undefined: it must be a directory
 * (not a link to one), owned by `uid`, and writable by nobody else.
 */
export function ownDirProblem(path: string, uid: number): string | undefined {
  const stat = lstatOrProblem(path);
  if (typeof stat === 'string') return stat;
  if (stat.isSymbolicLink()) return `${path} is a symbolic link`;
  if (!stat.isDirectory()) return `${path} is not a directory`;
  if (stat.uid !== uid) return `${path} is owned by uid ${stat.uid}, not by uid ${uid}`;
  if ((stat.mode & 0o022) !== 0) return `${path} is writable by others (mode ${(stat.mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Why we may not create our directory inside `path`, or undefined. A private
 * parent (`$XDG_RUNTIME_DIR`) must pass `ownDirProblem`. A shared one (`/run`,
 * `/tmp`) must be a directory owned by us or root that others either cannot
 * write or, with the sticky bit, cannot rename or remove our entries in.
 */
export function parentDirProblem(path: string, shared: boolean, uid: number): string | undefined {
  if (!shared) return ownDirProblem(path, uid);
  const stat = lstatOrProblem(path);
  if (typeof stat === 'string') return stat;
  if (stat.isSymbolicLink()) return `${path} is a symbolic link`;
  if (!stat.isDirectory()) return `${path} is not a directory`;
  if (stat.uid !== uid && stat.uid !== 0) return `${path} is owned by uid ${stat.uid}, not by uid ${uid} or root`;
  if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) return `${path} is writable by others and not sticky`;
  return undefined;
}

/**
 * Why a default control directory cannot be used, or undefined. One that
 * overseer creates is usable if its parent is trusted and it either does
 * not exist yet (and can be created) or exists and is ours; one given by the
 * environment must exist and be ours. The master takes the first usable one,
 * and the client skips the same ones the master would have skipped.
 */
export function controlDirProblem(dir: ControlDir, uid: number): string | undefined {
  if (dir.parent !== undefined) {
    const problem = parentDirProblem(dir.parent.path, dir.parent.shared, uid);
    if (problem !== undefined) return problem;
    if (!exists(dir.path)) {
      try {
        accessSync(dir.parent.path, constants.W_OK | constants.X_OK);
        return undefined;
      } catch (error) {
        return `cannot create a directory in ${dir.parent.path}: ${systemCode(error) ?? String(error)}`;
      }
    }
  }
  return ownDirProblem(dir.path, uid);
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function lstatOrProblem(path: string): Stats | string {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = systemCode(error);
    return code === 'ENOENT' ? `${path} does not exist` : `${path}: ${code ?? String(error)}`;
  }
}
