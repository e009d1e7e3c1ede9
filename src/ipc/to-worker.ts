/**
 * Messages the master sends to a worker. Adding a member here fails the build
 * until the worker's handler table handles it.
 */
import { type Envelope, type Reply, isCount, isEnvelope, isReply } from './envelope.js';

/** Start accepting on every deferred listener (the generation is live). Acked. */
export type ActivateMessage = Envelope<'activate'> & { readonly seq: number };

/**
 * Stop accepting and drain: in-flight requests finish, then the worker exits.
 * `timeoutMs` is when the master will escalate to SIGTERM. With reason
 * `signal` the worker is draining already (it said `draining`): this only
 * confirms the master's deadline.
 */
export type DrainReason = 'upgrade' | 'stop' | 'signal';

export type DrainMessage = Envelope<'drain'> & {
  readonly reason: DrainReason;
  readonly timeoutMs: number;
};

/**
 * Warm standby (`--rollback-window`): stop accepting and end keep-alive
 * in-band exactly as a drain does, but keep running: no `onShutdown` hook,
 * no exit. Acked once every listener is closed (its connections may still
 * be finishing). A later `drain` finishes the drain (hooks, exit); `resume`
 * accepts again.
 */
export type StandbyMessage = Envelope<'standby'> & { readonly seq: number };

/**
 * Accept again after `standby` (a rollback): the worker asks the master for
 * each listener it closed (`listen` requests) and accepts on them at once.
 * Acked when every listener accepts; an error names those that failed.
 */
export type ResumeMessage = Envelope<'resume'> & { readonly seq: number };

export type ToWorker = ActivateMessage | DrainMessage | StandbyMessage | ResumeMessage | Reply;

/** How many listeners a worker has (those it set up, closed by `standby`, or resumed). */
export interface ListenerCount {
  readonly listeners: number;
}

/** The request→reply map of this direction: the `result` a worker answers each request with. */
export interface WorkerResultOf {
  /** An `--exec` program's adapter (src/master/spawn/exec/process.ts) has no count to give. */
  readonly activate: Partial<ListenerCount>;
  readonly standby: ListenerCount;
  readonly resume: ListenerCount;
}

/** The guards the master's channel checks those results with (channel.ts). */
export const IS_WORKER_RESULT_OF: { readonly [K in keyof WorkerResultOf]: (value: unknown) => value is WorkerResultOf[K] } = {
  activate: (value): value is Partial<ListenerCount> => isObject(value) && (value.listeners === undefined || isCount(value.listeners)),
  standby: (value): value is ListenerCount => isObject(value) && isCount(value.listeners),
  resume: (value): value is ListenerCount => isObject(value) && isCount(value.listeners),
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Narrow untrusted input to a master→worker message, or `undefined`. */
export function parseToWorker(value: unknown): ToWorker | undefined {
  if (!isEnvelope(value)) return undefined;
  switch (value.type) {
    case 'activate':
      return typeof value.seq === 'number' ? (value as unknown as ActivateMessage) : undefined;
    case 'standby':
      return typeof value.seq === 'number' ? (value as unknown as StandbyMessage) : undefined;
    case 'resume':
      return typeof value.seq === 'number' ? (value as unknown as ResumeMessage) : undefined;
    case 'drain':
      return typeof value.timeoutMs === 'number' && typeof value.reason === 'string'
        ? (value as unknown as DrainMessage)
        : undefined;
    case 'reply':
      return isReply(value) ? (value as unknown as Reply) : undefined;
    default:
      return undefined;
  }
}
