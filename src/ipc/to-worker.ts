/**
 * Messages the master sends to a worker. Adding a member here fails the build
 * until the worker's handler table handles it.
 */
import { type Envelope, type Reply, isEnvelope, isReply } from './envelope.js';

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

export type ToWorker = ActivateMessage | DrainMessage | Reply;

/** Narrow untrusted input to a master→worker message, or `undefined`. */
export function parseToWorker(value: unknown): ToWorker | undefined {
  if (!isEnvelope(value)) return undefined;
  switch (value.type) {
    case 'activate':
      return typeof value.seq === 'number' ? (value as unknown as ActivateMessage) : undefined;
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
