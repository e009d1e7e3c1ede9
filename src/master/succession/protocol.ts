/**
 * Succession: a running master (the predecessor) replaces itself with a new
 * master process (the successor) started from the overseer installation as it
 * is on disk now, on the Node.js binary asked for (`overseer upgrade --self`,
 * docs/operations.md).
 *
 * What passes from the predecessor to the successor, and how:
 * - At spawn, in the environment variable SUCCESSION_ENV (a JSON
 *   SuccessionStart): which of the successor's descriptors are the held
 *   listening sockets and the `--metrics` socket (duplicates of the
 *   predecessor's, placed by spawn's `stdio`), the generation in service
 *   (the successor's first is the next number), the worker id sequence, and
 *   systemd's NOTIFY_SOCKET (the predecessor removed it from its own
 *   environment at start, so its workers could not use it).
 * - Over the successor's IPC channel (its parent is the predecessor), the
 *   messages below, in this order:
 *     successor → `hello` (its protocol version: another one is refused),
 *     successor → `held` (its first generation is ready, held back: it has
 *                 accepted nothing),
 *     predecessor → `take-over` (the state that must carry over, as of now:
 *                 the predecessor runs no upgrade from here on),
 *     successor → `took-over` (it holds the control socket and the PID file,
 *                 its workers accept, and systemd was told its pid).
 *   Only after `took-over` does the predecessor drain its own workers and
 *   exit. Before it, a successor that fails is stopped and the predecessor
 *   goes on as if nothing had happened (replace-self.ts).
 *
 * Both sides validate everything they read: a successor of another overseer
 * version is a different program, and the environment of a process can be
 * set by anyone who starts it.
 */
import type { LastUpgrade } from '../generations/queue.js';

/** Bumped when a message or field changes meaning; both sides refuse any other version. */
export const SUCCESSION_PROTOCOL = 1;

/** The environment variable that makes `overseer start` a successor (read and removed at start). */
export const SUCCESSION_ENV = 'OVERSEER_SUCCESSION';

/** A SUCCESSION_ENV value above this is refused unread. */
export const MAX_SUCCESSION_ENV_BYTES = 64 * 1024;

export interface PassedListenerFd {
  /** The successor's descriptor number. */
  readonly fd: number;
  /** Given with `--listen` (or by systemd) rather than bound on a worker's request. */
  readonly configured: boolean;
  /** Which `--listen` address (its index) it serves: a port 0 is a real port by now. */
  readonly listenIndex?: number;
  /** A master bound it (not systemd): a unix socket's file is the successor's to remove when it stops. */
  readonly boundByMaster: boolean;
}

/** What the successor is told at spawn (SUCCESSION_ENV). */
export interface SuccessionStart {
  readonly protocol: number;
  readonly predecessorPid: number;
  readonly listeners: readonly PassedListenerFd[];
  /** The `--metrics` listening socket, when the predecessor serves metrics. */
  readonly metricsFd?: number;
  /** systemd's NOTIFY_SOCKET, when the predecessor was started with one. */
  readonly notifySocket?: string;
  /** The generation in service at the predecessor (0: none yet); the successor's first is the next one. */
  readonly generation: number;
  /** The predecessor's last worker id; the successor's ids follow it. */
  readonly workerSeq: number;
  /** Crash replacements per slot of the generation in service; the successor's slots go on counting from them. */
  readonly restarts: readonly number[];
  /** The predecessor's last upgrade, for `overseer status`. */
  readonly lastUpgrade: LastUpgrade | null;
}

/** A counter's or histogram's samples, as prom-client's `get()` lists them; the successor adds them to its own. */
export interface CarriedSeries {
  readonly name: string;
  readonly values: ReadonlyArray<{ readonly metricName?: string; readonly labels: Readonly<Record<string, string | number>>; readonly value: number }>;
}

/** What carries over at `take-over`: what may have changed since the spawn. */
export interface CarriedState {
  /** The counters and histograms of `--metrics`, so that none goes backwards. */
  readonly metrics: readonly CarriedSeries[];
}

export type FromSuccessor =
  | { readonly type: 'hello'; readonly protocol: number; readonly version: string; readonly node: string; readonly pid: number }
  | { readonly type: 'held'; readonly generation: number }
  | { readonly type: 'took-over'; readonly generation: number; readonly controlPath: string };

export type ToSuccessor = { readonly type: 'take-over'; readonly state: CarriedState };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** A message from the successor, checked; undefined for anything else. */
export function parseFromSuccessor(value: unknown): FromSuccessor | undefined {
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'hello':
      return isCount(value.protocol) && typeof value.version === 'string' && typeof value.node === 'string' && isCount(value.pid)
        ? { type: 'hello', protocol: value.protocol, version: value.version, node: value.node, pid: value.pid }
        : undefined;
    case 'held':
      return isCount(value.generation) ? { type: 'held', generation: value.generation } : undefined;
    case 'took-over':
      return isCount(value.generation) && typeof value.controlPath === 'string'
        ? { type: 'took-over', generation: value.generation, controlPath: value.controlPath }
        : undefined;
    default:
      return undefined;
  }
}

/** The take-over message, checked; undefined for anything else. */
export function parseToSuccessor(value: unknown): ToSuccessor | undefined {
  if (!isObject(value) || value.type !== 'take-over' || !isObject(value.state)) return undefined;
  const { metrics } = value.state;
  if (!Array.isArray(metrics) || !metrics.every(isCarriedSeries)) return undefined;
  return { type: 'take-over', state: { metrics } };
}

function isCarriedSeries(value: unknown): value is CarriedSeries {
  return isObject(value) && typeof value.name === 'string' && Array.isArray(value.values) && value.values.every((v) =>
    isObject(v) && typeof v.value === 'number' && Number.isFinite(v.value) && isObject(v.labels)
    && (v.metricName === undefined || typeof v.metricName === 'string'));
}

/** SUCCESSION_ENV's value, checked; throws a sentence when it is not a SuccessionStart of our protocol. */
export function parseSuccessionStart(text: string): SuccessionStart {
  if (text.length > MAX_SUCCESSION_ENV_BYTES) throw new Error(`${SUCCESSION_ENV} is over ${MAX_SUCCESSION_ENV_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${SUCCESSION_ENV} is not JSON`);
  }
  if (!isObject(value)) throw new Error(`${SUCCESSION_ENV} is not a JSON object`);
  if (value.protocol !== SUCCESSION_PROTOCOL) {
    throw new Error(`the predecessor speaks succession protocol ${JSON.stringify(value.protocol)}; this overseer speaks ${SUCCESSION_PROTOCOL}`);
  }
  const { predecessorPid, listeners, metricsFd, notifySocket, generation, workerSeq, restarts, lastUpgrade } = value;
  const isFd = (fd: unknown): fd is number => isCount(fd) && fd >= 3;
  if (!isCount(predecessorPid) || !isCount(generation) || !isCount(workerSeq)) throw new Error(`${SUCCESSION_ENV} lacks predecessorPid, generation or workerSeq`);
  if (!Array.isArray(listeners) || !listeners.every((l) => isObject(l) && isFd(l.fd) && typeof l.configured === 'boolean' && typeof l.boundByMaster === 'boolean' && (l.listenIndex === undefined || isCount(l.listenIndex)))) {
    throw new Error(`${SUCCESSION_ENV} has no valid listeners`);
  }
  if (metricsFd !== undefined && !isFd(metricsFd)) throw new Error(`${SUCCESSION_ENV} has an invalid metricsFd`);
  if (notifySocket !== undefined && typeof notifySocket !== 'string') throw new Error(`${SUCCESSION_ENV} has an invalid notifySocket`);
  if (!Array.isArray(restarts) || !restarts.every(isCount)) throw new Error(`${SUCCESSION_ENV} has invalid restarts`);
  if (lastUpgrade !== null && !(isObject(lastUpgrade) && typeof lastUpgrade.ok === 'boolean' && typeof lastUpgrade.trigger === 'string')) {
    throw new Error(`${SUCCESSION_ENV} has an invalid lastUpgrade`);
  }
  return {
    protocol: SUCCESSION_PROTOCOL,
    predecessorPid,
    listeners: listeners as PassedListenerFd[],
    ...(metricsFd === undefined ? {} : { metricsFd }),
    ...(notifySocket === undefined ? {} : { notifySocket }),
    generation,
    workerSeq,
    restarts,
    lastUpgrade: lastUpgrade as LastUpgrade | null,
  };
}
