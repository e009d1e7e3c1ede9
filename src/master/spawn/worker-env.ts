/**
 * What a worker is started with: the script as it is on disk now, the
 * environment contract (OVERSEER_* and PORT), and with `--exec` the sockets
 * it gets at fds 3… (a program cannot ask for more later).
 */
import { resolve } from 'node:path';
import { ENV, heartbeatIntervalMs } from '../../ipc/env.js';
import type { MasterOptions } from '../options/options.js';
import type { HeldListener } from '../sockets/listeners.js';
import { findProgram } from './find-program.js';
import type { SpawnSpec } from './spawner.js';

const { realpathSync } = process.getBuiltinModule('node:fs');

export interface WorkerIdentity {
  readonly workerId: number;
  readonly generation: number;
}

export function workerSpec(o: MasterOptions, who: WorkerIdentity, held: readonly HeldListener[]): SpawnSpec {
  // Re-resolved at every spawn: a deploy that swaps `current -> releases/N`
  // is picked up by the next generation.
  const cwd = realpathOr(o.cwd);
  const script = o.exec ? findProgram(o.script, o.cwd) : realpathOr(resolve(o.cwd, o.script));
  const configured = held.filter((l) => l.configured);
  // PORT comes from --listen only, so it does not change between generations
  // when a worker asks for an address of its own.
  const tcp = configured.flatMap((l) => (l.address.kind === 'tcp' ? [l.address] : []));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [ENV.workerId]: String(who.workerId),
    [ENV.generation]: String(who.generation),
    [ENV.waitReady]: o.waitReady ? '1' : '0',
    [ENV.drainTimeout]: String(o.drainTimeoutMs),
    [ENV.closeSpread]: String(o.closeSpreadMs),
    [ENV.websocketClose]: o.websocketClose ? '1' : '0',
    [ENV.name]: o.name,
    // Hang detection (docs/self-healing.md): the beat interval, and with --hang-stack the watchdog's timeout.
    ...(o.hangTimeoutMs > 0 ? { [ENV.heartbeat]: String(heartbeatIntervalMs(o.hangTimeoutMs)) } : {}),
    ...(o.hangTimeoutMs > 0 && o.hangStack ? { [ENV.hangStack]: String(o.hangTimeoutMs) } : {}),
    ...(tcp.length === 1 ? { PORT: String(tcp[0]!.port) } : {}),
    ...(heartbeatMs(o) > 0 ? { [ENV.heartbeat]: String(heartbeatMs(o)) } : {}),
  };
  const exec = o.exec ? { listeners: configured, readyDelayMs: o.readyDelayMs } : undefined;
  return { script, args: o.scriptArgs, cwd, env, nodeArgs: o.nodeArgs, uid: o.uid, gid: o.gid, exec };
}

/**
 * The heartbeat carries the hang detector's beat and the worker's counts
 * (connections, requests) that --metrics reports: on with hang detection, at
 * its interval; with --metrics alone, once a second (the counts lag by that
 * much). --exec programs send none.
 */
export const METRICS_HEARTBEAT_MS = 1_000;

function heartbeatMs(o: MasterOptions): number {
  if (o.exec) return 0;
  if (o.hangTimeoutMs > 0) return heartbeatIntervalMs(o.hangTimeoutMs);
  return o.metrics ? METRICS_HEARTBEAT_MS : 0;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
