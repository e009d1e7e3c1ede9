/**
 * What every overseer IPC message has in common. `ovs` marks our messages
 * apart from the app's own `process.send()` traffic on the same channel and
 * carries the protocol version; none of our types start with `NODE_`, which
 * Node reserves for its internal messages.
 */
export const PROTOCOL_VERSION = 1;

export interface Envelope<T extends string> {
  readonly ovs: typeof PROTOCOL_VERSION;
  readonly type: T;
}

/** The answer to a request, correlated by `seq`; sent in both directions. */
export type Reply =
  | (Envelope<'reply'> & { readonly seq: number; readonly ok: true; readonly result?: unknown })
  | (Envelope<'reply'> & {
      readonly seq: number;
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string };
    });

/** A message that may be ours: an object with our marker and a string type. */
export function isEnvelope(value: unknown): value is Envelope<string> & Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null &&
    (value as { ovs?: unknown }).ovs === PROTOCOL_VERSION &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

export function isReply(value: Envelope<string> & Record<string, unknown>): boolean {
  return value.type === 'reply' && typeof value.seq === 'number' && typeof value.ok === 'boolean' &&
    (value.ok === true || (typeof value.error === 'object' && value.error !== null));
}

/** A count in a message: a non-negative safe integer. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
