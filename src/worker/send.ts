/**
 * The app's `process.send()` inside a worker. Its peer is the overseer master,
 * not a cluster primary or PM2, so two things differ from plain Node:
 * - `process.send('ready')` (PM2's convention) becomes our typed `ready`;
 * - a handle (a server, a socket) is refused: the master never accepts a
 *   connection nor keeps a handle it did not ask for. The call throws
 *   synchronously, with nothing sent, as Node's own `send()` does for a handle
 *   it cannot pass (ERR_INVALID_HANDLE_TYPE): it is a bad argument, not a
 *   failure of the channel, so it is not reported through the callback or
 *   'error'. The handle stays open and the app's.
 */
import { PM2_READY } from '../ipc/to-master.js';

export const ERR_SEND_HANDLE = 'ERR_OVERSEER_SEND_HANDLE';

type Send = (message: unknown, ...rest: unknown[]) => boolean;

export function wrapSend(original: Send, onReady: () => void): Send {
  return function send(message: unknown, ...rest: unknown[]): boolean {
    // Node's rule: a function in the handle position is the callback; any other truthy value is a handle.
    const handle = rest[0];
    if (handle && typeof handle !== 'function') throw sendHandleError(handle);
    if (message === PM2_READY) {
      onReady();
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (callback) process.nextTick(callback);
      return true;
    }
    return original(message, ...rest);
  };
}

function sendHandleError(handle: unknown): TypeError {
  const kind = (handle as { constructor?: { name?: string } }).constructor?.name ?? typeof handle;
  return Object.assign(
    new TypeError(
      `process.send() cannot pass a handle (${kind}) under overseer: the master never accepts connections ` +
        'or keeps handles, so servers and sockets cannot be sent to it; send a plain message instead',
    ),
    { code: ERR_SEND_HANDLE },
  );
}
