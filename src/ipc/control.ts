/**
 * The control protocol: `overseer upgrade|status|stop` (the client) talking
 * to a running master over its unix control socket.
 *
 * Framing: one JSON object per line (`\n`), UTF-8, in both directions.
 * Every request carries the protocol version `v` and an `id` the answers
 * repeat. A request is answered by exactly one `result` or `error` line,
 * except `stop`, which gets `result` { stage: 'stopping' } at once and a
 * second `result` { stage: 'stopped' } just before the master exits.
 * An `upgrade` request with `progress: true` also gets `progress` lines
 * (UpgradeProgress) as the upgrade runs: before its `result` (the outcome,
 * sent when the new generation is live or rejected, as without the flag), and
 * after it while the old generation drains, ending with phase `done`. The
 * flag is an addition within version 1: a master that predates it ignores it
 * and answers with the single `result`, which clients must accept.
 * A line longer than MAX_REQUEST_BYTES, malformed JSON, a wrong version or an
 * unknown type gets an `error` line (and the connection is closed); it never
 * affects the master. docs/protocol.md has examples.
 */
import type { UpgradeFailureReason } from '../errors.js';

export const CONTROL_VERSION = 1;
/** Requests are tiny; anything longer is refused before it is parsed. */
export const MAX_REQUEST_BYTES = 4096;

export const REQUEST_TYPES = ['upgrade', 'status', 'stop', 'upgrade-self'] as const;
export type ControlRequestType = (typeof REQUEST_TYPES)[number];

export type ControlRequest = {
  readonly v: typeof CONTROL_VERSION;
  readonly id: number;
  readonly type: ControlRequestType;
  /** `upgrade` only: stream `progress` lines as the upgrade runs. */
  readonly progress?: boolean;
  /** `upgrade-self` only: the absolute path of the Node.js binary the successor master runs on (default: the master's own). */
  readonly node?: string;
};

/** The longest `node` path a request may carry (PATH_MAX). */
export const MAX_NODE_PATH = 4096;

export type ControlErrorCode = 'bad-json' | 'bad-request' | 'unsupported-version' | 'unknown-request' | 'request-too-large' | 'internal-error';

/**
 * Milliseconds from an upgrade's trigger until a phase was reached: spawned,
 * listening (its first socket handed over), ready, live (accepting). `null`:
 * not seen (an `--exec` program or a port-0 listener asks the master for no socket).
 */
export interface PhaseTimes {
  readonly spawned: number;
  readonly listening: number | null;
  readonly ready: number | null;
  readonly live: number | null;
}

/** Where an upgrade's time went (docs/upgrade.md, "Phase times"). */
export interface UpgradePhases {
  /** When every worker of the new generation had reached each phase (the last one to get there). */
  readonly generation: PhaseTimes;
  /** The worker that went live last, with its own times. */
  readonly slowest: PhaseTimes & { readonly pid: number | undefined; readonly slot: number };
}

/** An upgrade's outcome as the master reports it (also the `upgrade.*` log events). */
export type UpgradeOutcome =
  | {
      readonly ok: true; readonly generation: number; readonly pids: readonly (number | undefined)[]; readonly durationMs: number;
      readonly phases?: UpgradePhases;
    }
  | {
      readonly ok: false;
      readonly generation: number | undefined;
      readonly reason: UpgradeFailureReason;
      readonly message: string;
      readonly durationMs: number;
      readonly code?: number | null;
      readonly signal?: string | null;
      readonly stderr?: readonly string[];
    };

export interface WorkerStatus {
  readonly workerId: number;
  readonly generation: number;
  readonly slot: number;
  readonly pid: number | undefined;
  readonly state: string;
  readonly uptimeMs: number;
  /** Crash replacements in this worker's slot before it. */
  readonly restarts: number;
  /** Resident set size in bytes; null where the OS does not tell (non-Linux). */
  readonly rssBytes: number | null;
}

export interface MasterStatus {
  readonly pid: number;
  readonly name: string;
  readonly version: string;
  /** The Node.js version the master runs on (`process.version`). */
  readonly node: string;
  readonly state: string;
  readonly uptimeMs: number;
  readonly rssBytes: number;
  /** `--max-memory` in bytes: a worker above it is recycled; null: off. */
  readonly maxMemoryBytes: number | null;
  readonly listeners: readonly string[];
  /** The generation in service; undefined until the first one is. */
  readonly generation: number | undefined;
  readonly workers: readonly WorkerStatus[];
  /** A new generation that is starting (during an upgrade). */
  readonly starting: readonly WorkerStatus[];
  readonly draining: readonly WorkerStatus[];
  readonly upgrading: boolean;
  readonly lastUpgrade: (UpgradeOutcome & { readonly trigger: string; readonly finishedAt: string }) | null;
}

export type StopProgress =
  | { readonly stage: 'stopping'; readonly pid: number }
  | { readonly stage: 'stopped'; readonly pid: number; readonly durationMs: number };

/**
 * One step of a running upgrade, as streamed to a client that asked for
 * progress. `atMs`: milliseconds since the upgrade started (for the phases
 * after `live`, since the same start). `of`: the workers the generation has.
 * `connections` of `draining`: open connections left on the draining
 * workers, summed from their heartbeats; null when not known (no heartbeat,
 * `--exec`, or none arrived yet).
 */
export type UpgradeProgress =
  | { readonly phase: 'started'; readonly generation: number; readonly of: number; readonly atMs: number }
  | { readonly phase: 'spawned'; readonly generation: number; readonly spawned: number; readonly of: number; readonly atMs: number }
  | { readonly phase: 'ready'; readonly generation: number; readonly ready: number; readonly of: number; readonly startupMs: number; readonly atMs: number }
  | { readonly phase: 'live'; readonly generation: number; readonly atMs: number }
  /** A rollback window after `live`: the old generation is kept on standby this much longer. */
  | { readonly phase: 'watching'; readonly generation: number; readonly secondsLeft: number; readonly atMs: number }
  | { readonly phase: 'draining'; readonly generation: number; readonly workers: number; readonly connections: number | null; readonly atMs: number }
  /** The old generation is gone (or there was none); the last line for this request. */
  | { readonly phase: 'done'; readonly generation: number | undefined; readonly liveMs: number | undefined; readonly drainMs: number | undefined; readonly atMs: number };

export type UpgradePhase = UpgradeProgress['phase'];
export const UPGRADE_PHASES: readonly UpgradePhase[] = ['started', 'spawned', 'ready', 'live', 'watching', 'draining', 'done'];

/** A progress line for request `id`. */
export type ControlProgress = {
  readonly v: typeof CONTROL_VERSION;
  readonly id: number;
  readonly type: 'progress';
  readonly progress: UpgradeProgress;
};

/** Why a self-upgrade did not happen; the running master keeps serving in every case. */
export type SelfUpgradeFailureReason =
  /** Another upgrade (of the app or of the master) is running. */
  | 'busy'
  /** The master is starting or stopping. */
  | 'not-running'
  /** The successor could not be started (the Node.js binary or overseer's entry is missing, fork failed). */
  | 'spawn-failed'
  /** The successor exited before it took over. */
  | 'exited'
  /** The successor was not ready within `--ready-timeout`. */
  | 'ready-timeout'
  /** The successor speaks another version of the succession protocol. */
  | 'protocol'
  /** The successor broke the succession protocol (a malformed message, its channel closed). */
  | 'broken'
  /** The master started to stop meanwhile. */
  | 'stopping';

/** The outcome of `upgrade-self`: the successor serves, or the old master does, as before. */
export type SelfUpgradeOutcome =
  | {
      readonly ok: true;
      /** The successor master, now in charge (PID file, control socket, systemd's MainPID). */
      readonly pid: number;
      /** The master that answered, now draining its workers before it exits. */
      readonly previousPid: number;
      /** The successor's first generation, live. */
      readonly generation: number;
      /** The successor's overseer version and Node.js version. */
      readonly version: string;
      readonly node: string;
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly reason: SelfUpgradeFailureReason;
      readonly message: string;
      readonly durationMs: number;
      /** The successor's pid, when one was started. */
      readonly successorPid?: number;
    };

/** The request→reply map: what each request is answered with. Adding a request type fails the build until it is here. */
export interface ResultOf {
  readonly upgrade: UpgradeOutcome;
  readonly status: MasterStatus;
  readonly stop: StopProgress;
  readonly 'upgrade-self': SelfUpgradeOutcome;
}

/** The answer line to a request of type `K`. */
export type ControlResult<K extends ControlRequestType = ControlRequestType> = {
  readonly v: typeof CONTROL_VERSION;
  readonly id: number;
  readonly type: 'result';
  readonly result: ResultOf[K];
};

export type ControlError = {
  readonly v: typeof CONTROL_VERSION;
  readonly id: number | null;
  readonly type: 'error';
  readonly error: { readonly code: ControlErrorCode; readonly message: string };
};

export type ControlResponse = ControlResult | ControlError | ControlProgress;

/**
 * A check that an answer's `result` is of the kind its request gets (the
 * line carries no request type; the client knows which it sent). A master
 * that answers with something else is refused rather than misread.
 */
export const IS_RESULT_OF: { readonly [K in ControlRequestType]: (value: unknown) => value is ResultOf[K] } = {
  upgrade: (value): value is UpgradeOutcome => isObject(value) && typeof value.ok === 'boolean',
  status: (value): value is MasterStatus => isObject(value) && Array.isArray(value.workers) && typeof value.pid === 'number',
  stop: (value): value is StopProgress => isObject(value) && (value.stage === 'stopping' || value.stage === 'stopped'),
  'upgrade-self': (value): value is SelfUpgradeOutcome =>
    isObject(value) && (value.ok === true ? typeof value.pid === 'number' : value.ok === false && typeof value.reason === 'string'),
};

/** An answer line as the client reads it: the envelope checked, the `result` not yet (IS_RESULT_OF). */
export type ReceivedResponse =
  | { readonly id: number; readonly type: 'result'; readonly result: unknown }
  | { readonly id: number | null; readonly type: 'error'; readonly error: { readonly code: string; readonly message: string } }
  | { readonly id: number; readonly type: 'progress'; readonly progress: UpgradeProgress };

/** Parse one answer line's envelope; undefined for anything else. */
export function parseControlResponse(line: string): ReceivedResponse | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(value) || (typeof value.id !== 'number' && value.id !== null)) return undefined;
  const id = value.id;
  if (value.type === 'result' && typeof id === 'number') return { id, type: 'result', result: value.result };
  if (value.type === 'progress' && typeof id === 'number') {
    const progress = value.progress;
    // Only the phase is checked: the view shows the fields it finds.
    if (isObject(progress) && (UPGRADE_PHASES as readonly unknown[]).includes(progress.phase)) {
      return { id, type: 'progress', progress: progress as unknown as UpgradeProgress };
    }
    return undefined;
  }
  const error = value.error;
  if (value.type === 'error' && isObject(error) && typeof error.code === 'string' && typeof error.message === 'string') {
    return { id, type: 'error', error: { code: error.code, message: error.message } };
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type ParsedRequest =
  | { readonly ok: true; readonly request: ControlRequest }
  | { readonly ok: false; readonly id: number | null; readonly code: ControlErrorCode; readonly message: string };

/** Parse one request line; never throws. */
export function parseControlRequest(line: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, id: null, code: 'bad-json', message: 'request is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: null, code: 'bad-request', message: 'request must be a JSON object' };
  }
  const v = value as Record<string, unknown>;
  const id = typeof v.id === 'number' && Number.isSafeInteger(v.id) ? v.id : null;
  if (id === null) return { ok: false, id: null, code: 'bad-request', message: 'request needs an integer `id`' };
  if (v.v !== CONTROL_VERSION) {
    return { ok: false, id, code: 'unsupported-version', message: `protocol version ${JSON.stringify(v.v)} is not supported (this master speaks ${CONTROL_VERSION})` };
  }
  if (typeof v.type !== 'string' || !(REQUEST_TYPES as readonly string[]).includes(v.type)) {
    return { ok: false, id, code: 'unknown-request', message: `unknown request type ${JSON.stringify(v.type)} (known: ${REQUEST_TYPES.join(', ')})` };
  }
  if (v.progress !== undefined && typeof v.progress !== 'boolean') {
    return { ok: false, id, code: 'bad-request', message: '`progress` must be a boolean' };
  }
  const type = v.type as ControlRequestType;
  if (v.node !== undefined && (type !== 'upgrade-self' || typeof v.node !== 'string' || !v.node.startsWith('/') || v.node.length > MAX_NODE_PATH || v.node.includes('\0'))) {
    return { ok: false, id, code: 'bad-request', message: '`node` must be an absolute path, and only in an `upgrade-self` request' };
  }
  return {
    ok: true,
    request: { v: CONTROL_VERSION, id, type, ...(v.progress === true ? { progress: true } : {}), ...(typeof v.node === 'string' ? { node: v.node } : {}) },
  };
}
