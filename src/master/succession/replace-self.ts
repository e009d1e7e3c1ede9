/**
 * The predecessor's side of a self-upgrade (protocol.ts has the messages):
 * start a successor master from the overseer entry as it is on disk now,
 * with the held sockets as its descriptors, and race its messages against
 * its exit, the ready deadline and this master's stop, in one place.
 *
 * Deadlines: from the spawn to `held`, `--ready-timeout` (the successor's
 * start-up and its first generation's, which the app's boot dominates); from
 * `take-over` to `took-over`, TAKE_OVER_TIMEOUT_MS (activating its workers,
 * and systemd reading MAINPID=).
 *
 * Contract: resolves `ok` once the successor has taken over (the caller then
 * drains this master's workers and exits); otherwise the successor has been
 * stopped and has exited, and, if it had started to take over (and this
 * master is not stopping), the PID file, the control socket and the metrics
 * endpoint are this master's again (`reassert`), before the outcome
 * resolves. Never rejects.
 */
import type { ChildProcess } from 'node:child_process';
import type { Clock } from '../../clock.js';
import type { SelfUpgradeFailureReason, SelfUpgradeOutcome } from '../../ipc/control.js';
import type { MasterEvents } from '../events.js';
import type { LastUpgrade } from '../generations/queue.js';
import type { HeldListener } from '../sockets/listeners.js';
import { type CarriedSeries, SUCCESSION_ENV, SUCCESSION_PROTOCOL, type SuccessionStart, type ToSuccessor, parseFromSuccessor } from './protocol.js';

/** Activating the successor's held workers (5 s at most) and telling systemd, with room to spare. */
export const TAKE_OVER_TIMEOUT_MS = 20_000;

/** What is read of the master (the Master is one). */
export interface SuccessionSource {
  readonly pid: number;
  readonly held: { readonly all: readonly HeldListener[] };
  readonly currentGeneration: number | undefined;
  readonly workerSeq: number;
  readonly slotRestarts: readonly number[];
  readonly lastUpgrade: LastUpgrade | undefined;
  emit<K extends keyof MasterEvents>(event: K, ...args: MasterEvents[K]): boolean;
}

/** How to start the successor: the OS seam (the real one: spawn-successor.ts). */
export interface SuccessorPlan {
  readonly node: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Placed at descriptors 3, 4, … of the successor, in this order. */
  readonly fds: readonly number[];
}
export type SpawnSuccessor = (plan: SuccessorPlan) => ChildProcess;

export interface ReplaceSelfDeps {
  /** How this master was started: node's argv[1] (overseer's entry, re-read from disk by the successor) and the arguments after it. */
  readonly entry: string;
  readonly args: readonly string[];
  readonly execArgv: readonly string[];
  /** The Node.js binary when the request names none: the master's own. */
  readonly defaultNode: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly notifySocket: string | undefined;
  readonly metrics: { readonly fd: number | undefined; snapshot(): Promise<CarriedSeries[]>; close(): Promise<void> } | undefined;
  readonly readyTimeoutMs: number;
  /** How long the successor has to stop after SIGTERM before SIGKILL. */
  readonly killTimeoutMs: number;
  readonly clock: Clock;
  readonly spawn: SpawnSuccessor;
  /** Why the master should not run this Node.js binary (spawn-successor.ts, untrustedNode); undefined: it may. */
  untrustedNode(node: string): string | undefined;
  /** After a failure past `take-over`: make the PID file, control socket and metrics endpoint ours again. */
  reassert(): Promise<void>;
}

const fdOf = (listener: HeldListener): number | undefined => {
  const fd = (listener.handle as { fd?: unknown }).fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
};

export async function replaceSelf(master: SuccessionSource, request: { readonly node?: string }, deps: ReplaceSelfDeps, signal: AbortSignal): Promise<SelfUpgradeOutcome> {
  const started = deps.clock.now();
  const elapsed = () => Math.round(deps.clock.now() - started);
  const refuse = (reason: SelfUpgradeFailureReason, message: string, successorPid?: number): SelfUpgradeOutcome => {
    master.emit('succession.failed', { reason, message, ...(successorPid === undefined ? {} : { successorPid }) });
    return { ok: false, reason, message, durationMs: elapsed(), ...(successorPid === undefined ? {} : { successorPid }) };
  };

  const fds: number[] = [];
  for (const listener of master.held.all) {
    const fd = fdOf(listener);
    if (fd === undefined) return refuse('spawn-failed', `cannot pass ${listener.key} to a successor: its descriptor is not known`);
    fds.push(fd);
  }
  const listeners = master.held.all.map((l, i) => ({
    fd: 3 + i, configured: l.configured, boundByMaster: l.inherited === undefined || l.inherited.boundByMaster === true,
    ...(l.listenIndex === undefined ? {} : { listenIndex: l.listenIndex }),
  }));
  const metricsFd = deps.metrics?.fd;
  if (deps.metrics && metricsFd === undefined) return refuse('spawn-failed', 'cannot pass the --metrics socket to a successor: its descriptor is not known');
  const start: SuccessionStart = {
    protocol: SUCCESSION_PROTOCOL,
    predecessorPid: master.pid,
    listeners,
    ...(metricsFd === undefined ? {} : { metricsFd: 3 + fds.length }),
    ...(deps.notifySocket === undefined ? {} : { notifySocket: deps.notifySocket }),
    generation: master.currentGeneration ?? 0,
    workerSeq: master.workerSeq,
    restarts: master.slotRestarts,
    lastUpgrade: withoutStderr(master.lastUpgrade),
  };
  if (metricsFd !== undefined) fds.push(metricsFd);

  const node = request.node ?? deps.defaultNode;
  const untrusted = request.node === undefined ? undefined : deps.untrustedNode(node);
  if (untrusted) return refuse('spawn-failed', untrusted);
  let child: ChildProcess;
  try {
    child = deps.spawn({
      node,
      args: [...deps.execArgv, deps.entry, ...deps.args],
      cwd: deps.cwd,
      env: { ...deps.env, [SUCCESSION_ENV]: JSON.stringify(start) },
      fds,
    });
  } catch (error) {
    return refuse('spawn-failed', `cannot start a successor with ${node}: ${(error as Error).message}`);
  }

  return new Promise<SelfUpgradeOutcome>((resolve) => {
    let phase: 'hello' | 'starting' | 'taking-over' | 'settled' = 'hello';
    let hello: { version: string; node: string; pid: number } | undefined;
    const pid = child.pid;
    let cancelTimer = deps.clock.setTimeout(() => void fail('ready-timeout', `the successor master was not ready within --ready-timeout (${deps.readyTimeoutMs} ms)`), deps.readyTimeoutMs);
    const exited = new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) done();
      else child.once('exit', () => done());
    });

    const fail = async (reason: SelfUpgradeFailureReason, message: string) => {
      if (phase === 'settled') return;
      const tookPart = phase === 'taking-over';
      phase = 'settled';
      cancelTimer();
      signal.removeEventListener('abort', onAbort);
      await stopSuccessor(child, exited, deps);
      // A master that is stopping removes its PID file and control socket itself: nothing to take back.
      if (tookPart && reason !== 'stopping') await deps.reassert();
      resolve(refuse(reason, message, pid));
    };
    const onAbort = () => void fail('stopping', 'the master is stopping');
    if (signal.aborted) return void onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    // `on`, not `once`, and kept after the outcome (fail() does nothing then):
    // an 'error' event without a listener would end this master.
    child.on('error', (error) => void fail('spawn-failed', `cannot start a successor with ${node}: ${error.message}`));
    child.once('exit', (code, sig) => void fail('exited', `the successor master ${pid} exited (${sig ? `signal ${sig}` : `code ${code}`}) before it took over; its own lines above say why`));
    child.on('message', (raw: unknown) => {
      const message = parseFromSuccessor(raw);
      if (!message) {
        // A successor of another version may send more than this one knows; only a hello is needed to tell.
        if (phase === 'hello') void fail('broken', `the successor master ${pid} sent ${JSON.stringify(raw).slice(0, 200)} instead of its hello`);
        return;
      }
      switch (message.type) {
        case 'hello':
          if (message.protocol !== SUCCESSION_PROTOCOL) {
            void fail('protocol', `the successor (overseer ${message.version}) speaks succession protocol ${message.protocol}; this master speaks ${SUCCESSION_PROTOCOL}`);
            return;
          }
          hello = message;
          phase = 'starting';
          master.emit('succession.started', { successorPid: message.pid, version: message.version, node: message.node });
          return;
        case 'held':
          if (phase !== 'starting' || !hello) return void fail('broken', `the successor master ${pid} said it was ready before its hello`);
          phase = 'taking-over';
          cancelTimer();
          cancelTimer = deps.clock.setTimeout(() => void fail('ready-timeout', `the successor master did not take over within ${TAKE_OVER_TIMEOUT_MS} ms of being ready`), TAKE_OVER_TIMEOUT_MS);
          master.emit('succession.held', { successorPid: hello.pid, generation: message.generation });
          void takeOver().catch((error: unknown) => void fail('broken', `cannot hand over to the successor: ${(error as Error).message}`));
          return;
        case 'took-over': {
          if (phase !== 'taking-over' || !hello) return void fail('broken', `the successor master ${pid} said it took over before it was told to`);
          phase = 'settled';
          cancelTimer();
          signal.removeEventListener('abort', onAbort);
          child.removeAllListeners('exit');
          child.removeAllListeners('message');
          child.disconnect();
          child.unref();
          master.emit('succession.handed-over', { successorPid: hello.pid, generation: message.generation });
          resolve({ ok: true, pid: hello.pid, previousPid: master.pid, generation: message.generation, version: hello.version, node: hello.node, durationMs: elapsed() });
        }
      }
    });

    /**
     * The counters as they stand, once this master's endpoint is closed: a
     * scrape from here on waits in the socket's backlog for the successor,
     * which serves them plus its own, so none goes backwards.
     */
    const takeOver = async () => {
      const metrics = deps.metrics ? await deps.metrics.snapshot() : [];
      await deps.metrics?.close();
      if (phase !== 'taking-over') return;
      // A successor that died meanwhile fails through its 'exit'; the callback keeps the send's error off 'error'.
      child.send({ type: 'take-over', state: { metrics } } satisfies ToSuccessor, undefined, undefined, () => {});
    };
  });
}

/** SIGTERM (it drains what it may have accepted), SIGKILL after `killTimeoutMs`; resolves once it has exited. */
async function stopSuccessor(child: ChildProcess, exited: Promise<void>, deps: Pick<ReplaceSelfDeps, 'clock' | 'killTimeoutMs'>): Promise<void> {
  if (child.pid === undefined) return;
  child.kill('SIGTERM');
  const cancel = deps.clock.setTimeout(() => child.kill('SIGKILL'), deps.killTimeoutMs);
  await exited;
  cancel();
}

/** The last upgrade without the failed worker's stderr lines (which could make the environment variable too long). */
function withoutStderr(last: LastUpgrade | undefined): LastUpgrade | null {
  if (!last) return null;
  if (last.ok) return last;
  const { stderr: _stderr, ...rest } = last;
  return rest;
}
