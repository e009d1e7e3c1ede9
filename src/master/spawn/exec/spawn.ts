/**
 * Starting an `--exec` worker: any program that takes its sockets the way
 * systemd socket activation hands them over (sd_listen_fds(3)).
 *
 * Contract with the program:
 * - the master's sockets at fds 3…, already listening, in the order of
 *   `LISTEN_FDNAMES`; `LISTEN_FDS` is their count, `LISTEN_PID` the
 *   program's own pid;
 * - `OVERSEER_READY_FD` (= 3 + `LISTEN_FDS`) is the write end of the ready
 *   pipe: the program writes the line `READY=1` once it serves;
 * - the usual `OVERSEER_*` variables and `PORT`; stdin is /dev/null, stdout
 *   and stderr are pipes relayed by the master, as for Node workers;
 * - SIGTERM means drain; SIGKILL follows at `--drain-timeout`.
 * The program runs in its own process group, as Node workers do.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ListenError } from '../../../errors.js';
import { formatAddress, isWildcardHost } from '../../../ipc/address.js';
import type { Clock } from '../../../clock.js';
import { ExecProcess } from './process.js';
import { ensureListening } from '../../sockets/listen-helper.js';
import type { ExecListener, ExecSpec, SpawnSpec, WorkerProcess } from '../spawner.js';

export const EXEC_ENV = {
  fds: 'LISTEN_FDS',
  pid: 'LISTEN_PID',
  names: 'LISTEN_FDNAMES',
  readyFd: 'OVERSEER_READY_FD',
} as const;

/**
 * `LISTEN_PID` must be the program's own pid, which is unknown before the
 * spawn: a shell sets it to its own pid and execs the program in its place,
 * which keeps the pid. `$0` is the program, `"$@"` its arguments.
 */
const SET_PID_THEN_EXEC = `${EXEC_ENV.pid}=$$ exec "$0" "$@"`;

/** The native handle's descriptor (libuv exposes `fd` on Unix). */
function descriptorOf(listener: ExecListener): number {
  const fd = (listener.handle as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || fd < 0) throw new ListenError(`no file descriptor for ${formatAddress(listener.address)}`);
  return fd;
}

/**
 * A `LISTEN_FDNAMES` entry: systemd's name for a socket it passed in (unless
 * it is systemd's default, `unknown`), else the address, `*` for any host.
 * Names are separated by colons and must be printable ASCII, so
 * `127.0.0.1:3000` becomes `127.0.0.1_3000`, and `[::]:3000` `*_3000`.
 */
export function fdName(listener: ExecListener): string {
  const name = listener.inherited?.name;
  const { address } = listener;
  const shown = address.kind === 'tcp' && isWildcardHost(address.host) ? { ...address, host: undefined } : address;
  const raw = name && name !== 'unknown' ? name : formatAddress(shown);
  return raw.replace(/[^\x21-\x7e]|:/g, '_').slice(0, 255);
}

export function spawnExec(spec: SpawnSpec, exec: ExecSpec, clock: Clock): WorkerProcess {
  const fds = exec.listeners.map(descriptorOf);
  ensureListening(exec.listeners.map((l, i) => ({ handle: l.handle, fd: fds[i]!, label: formatAddress(l.address) })));
  const readyFd = 3 + fds.length;
  const env: NodeJS.ProcessEnv = {
    ...spec.env,
    [EXEC_ENV.fds]: String(fds.length),
    [EXEC_ENV.names]: exec.listeners.map(fdName).join(':'),
    [EXEC_ENV.readyFd]: String(readyFd),
  };
  delete env[EXEC_ENV.pid]; // set by the shell, to the program's pid
  // The program is not the service's main process: its own sd_notify would reach systemd, not us.
  delete env.NOTIFY_SOCKET;
  const child = spawn('/bin/sh', ['-c', SET_PID_THEN_EXEC, spec.script, ...spec.args], {
    cwd: spec.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', ...fds, 'pipe'],
    detached: true,
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  });
  return new ExecProcess(child, {
    addresses: exec.listeners.map((l) => l.address),
    ready: (child.stdio[readyFd] as Readable | null | undefined) ?? null,
    readyDelayMs: exec.readyDelayMs,
    clock,
  });
}
