/**
 * The OS seam of a self-upgrade: the successor master is a child of its
 * predecessor, with the held sockets at descriptors 3, 4, … (libuv dup2()s
 * them into place, clearing close-on-exec), the predecessor's stdout and
 * stderr (the same journal or terminal), no stdin, and an IPC channel last.
 * It is not detached: it stays in the service's process group and cgroup.
 */
import { spawn } from 'node:child_process';
import type { SpawnSuccessor } from './replace-self.js';

export const spawnSuccessor: SpawnSuccessor = (plan) =>
  spawn(plan.node, [...plan.args], { cwd: plan.cwd, env: plan.env, stdio: ['ignore', 'inherit', 'inherit', ...plan.fds, 'ipc'] });
