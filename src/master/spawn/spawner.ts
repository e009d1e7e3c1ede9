/**
 * The process seam. The master starts workers only through a `Spawner`, so
 * the state machine can be driven by fakes in unit tests; `osSpawner`
 * (os-spawner.ts) is the real one. Types only: the real spawners import
 * these, never the other way round.
 */
import type { Readable } from 'node:stream';
import type { ListenAddress } from '../../ipc/address.js';
import type { Port } from '../../ipc/channel.js';
import type { InternalMessages } from '../../ipc/refuse-handles.js';

/** A socket to hand over (a `HeldListener` fits). */
export interface ExecListener {
  readonly handle: object;
  readonly address: ListenAddress;
  /** Set for a socket systemd passed in: its `FileDescriptorName=` goes into `LISTEN_FDNAMES`. */
  readonly inherited?: { readonly name: string } | undefined;
}

/** What an `--exec` spawn needs beyond a Node one. */
export interface ExecSpec {
  /** The sockets, in fd order (3, 4, …). */
  readonly listeners: readonly ExecListener[];
  /** Take the program as ready this long after its start if it has not said READY=1. */
  readonly readyDelayMs: number | undefined;
}

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
