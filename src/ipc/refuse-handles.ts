/**
 * Keeps Node from adopting a handle that the other end of an IPC channel
 * sends unasked (the master's side: a worker's app may call
 * `process.send(message, server)`).
 *
 * Why it has to happen this early: a message that carries a handle arrives as
 * Node's internal `{ cmd: 'NODE_HANDLE', type, msg }` on the 'internalMessage'
 * event, and Node's own listener (added at fork) converts the raw handle by
 * `type` before 'message' is ever emitted (lib/internal/child_process.js,
 * `handleConversion[type].got`): for 'net.Server' it runs
 * `new net.Server().listen(handle)`, so the receiving process would accept
 * connections on the sender's socket; for 'net.Socket' it wraps the
 * descriptor in a socket nobody closes; for 'dgram.Socket' it binds.
 *
 * A listener prepended to 'internalMessage' runs first, in the same emit:
 * it closes the raw handle and rewrites `type` to 'net.Native', whose
 * conversion only passes the handle on. Node's listener still acknowledges
 * it (so the sender's queue of handles moves on) but never listens on it,
 * wraps it or binds it; the message itself is delivered as usual, with the
 * closed handle. Verified against Node 20, 22 and 24, whose code here is
 * the same.
 */

const NODE_HANDLE = 'NODE_HANDLE';
const PASS_THROUGH = 'net.Native';

interface HandleMessage {
  cmd: typeof NODE_HANDLE;
  type: unknown;
}

/** The part of a `ChildProcess` this needs. */
export interface InternalMessages {
  prependListener(event: 'internalMessage', listener: (message: unknown, handle: unknown) => void): unknown;
}

/**
 * From now on, close every handle that arrives on `port`, before Node can use
 * it, and tell `refused` what kind it was (Node's own name: 'net.Server',
 * 'net.Socket', 'net.Native', 'dgram.Socket', 'dgram.Native', or whatever the
 * sender claimed).
 */
export function refuseHandles(port: InternalMessages, refused: (type: string) => void): void {
  const seen = new WeakSet<object>();
  port.prependListener('internalMessage', (message, handle) => {
    if (!isHandleMessage(message) || typeof handle !== 'object' || handle === null) return;
    // A message nested in another NODE_HANDLE comes round again with the same handle.
    if (seen.has(handle)) {
      message.type = PASS_THROUGH;
      return;
    }
    seen.add(handle);
    const type = typeof message.type === 'string' ? message.type : String(message.type);
    // An unknown type would make Node's listener throw (handleConversion[type] is undefined).
    message.type = PASS_THROUGH;
    try {
      (handle as { close?: () => void }).close?.();
    } finally {
      refused(type);
    }
  });
}

function isHandleMessage(message: unknown): message is HandleMessage {
  return typeof message === 'object' && message !== null && (message as { cmd?: unknown }).cmd === NODE_HANDLE;
}
