/**
 * The process seam. The master starts workers only through a `Spawner`, so
 * the state machine can be driven by fakes in unit tests; `forkSpawner` is the
 * real one.
 */
import { fork } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Port } from '../../ipc/channel.js';
import type { InternalMessages } from '../../ipc/refuse-handles.js';
import { type ExecSpec, spawnExec } from './exec/spawn.js';

export interface SpawnSpec {
  readonly script: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly nodeArgs: readonly string[];
  /** Identity to run as (`--user`/`--group`); libuv drops supplementary groups too. */
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** Set with `--exec`: `script` is a program given these sockets at fds 3… (exec/spawn.ts), not a Node app. */
  readonly exec?: ExecSpec | undefined;
}

/** What the master uses of a child process (Node's internal messages: to refuse handles, refuse-handles.ts). */
export interface WorkerProcess extends Port, InternalMessages {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'message', listener: (message: unknown, handle: unknown) => void): this;
  on(event: 'disconnect', listener: () => void): this;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

export interface Spawner {
  spawn(spec: SpawnSpec): WorkerProcess;
}

/** The code injected into every worker before the app (src/worker/preload.ts). */
export const PRELOAD_URL = new URL('../../worker/preload.js', import.meta.url).href;

export const forkSpawner: Spawner = {
  spawn(spec) {
    if (spec.exec) return spawnExec(spec, spec.exec);
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
  },
};
