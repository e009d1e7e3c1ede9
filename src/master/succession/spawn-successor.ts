/**
 * The OS seam of a self-upgrade: the successor master is a child of its
 * predecessor, with the held sockets at descriptors 3, 4, … (libuv dup2()s
 * them into place, clearing close-on-exec), the predecessor's stdout and
 * stderr (the same journal or terminal), no stdin, and an IPC channel last.
 * It is not detached: it stays in the service's process group and cgroup.
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { SpawnSuccessor } from './replace-self.js';

const { realpathSync, statSync } = process.getBuiltinModule('node:fs');

export const spawnSuccessor: SpawnSuccessor = (plan) =>
  spawn(plan.node, [...plan.args], { cwd: plan.cwd, env: plan.env, stdio: ['ignore', 'inherit', 'inherit', ...plan.fds, 'ipc'] });

/**
 * Why the master should not run `node` as the successor, or undefined. The
 * master often runs as root and runs this binary as itself: the file, and the
 * directory it is in (links resolved), must be owned by `uid` or root and
 * writable by nobody else, or another user could replace what root runs.
 */
export function untrustedNode(node: string, uid: number): string | undefined {
  let real: string;
  try {
    real = realpathSync(node);
  } catch (error) {
    return `--node ${node}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
  for (const path of [real, dirname(real)]) {
    const stat = statSync(path);
    if (stat.uid !== uid && stat.uid !== 0) return `--node ${node}: ${path} is owned by uid ${stat.uid}, not by uid ${uid} or root`;
    if ((stat.mode & 0o022) !== 0) return `--node ${node}: ${path} is writable by others (mode ${(stat.mode & 0o7777).toString(8)})`;
  }
  if (!statSync(real).isFile()) return `--node ${node}: not a file`;
  return undefined;
}
