/** Starting a Node worker: the user's script, with our preload injected (src/worker/preload.ts). */
import { fork } from 'node:child_process';
import type { SpawnSpec, WorkerProcess } from './spawner.js';

/** The code injected into every worker before the app (src/worker/preload.ts). */
export const PRELOAD_URL = new URL('../../worker/preload.js', import.meta.url).href;

/** Fork a Node worker with the preload; `spec.exec` is not for this spawner. */
export function forkNode(spec: SpawnSpec): WorkerProcess {
  return fork(spec.script, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    execArgv: [...spec.nodeArgs, '--import', PRELOAD_URL],
    // stdout and stderr are pipes the master relays a whole line at a time
    // (output-relay.ts), so an app's output never merges into a master log
    // line, and a stalled reader slows the app's writes instead of filling
    // the master's memory. The master keeps stderr's last lines to explain
    // a failed start.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: a Ctrl-C in the terminal reaches only the
    // master, which then drains the workers instead of them dying mid-request.
    detached: true,
    serialization: 'json',
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  });
}
