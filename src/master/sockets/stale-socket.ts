/**
 * Reclaiming a unix socket path before binding it (the app's `unix:` listen
 * addresses and the control socket): a socket file nobody accepts on was left
 * by a process that died, and is removed; one that a live process accepts on,
 * or a file that is not a socket, is left alone and reported.
 */

const { lstatSync, unlinkSync } = process.getBuiltinModule('node:fs');
const { connect } = process.getBuiltinModule('node:net');

export type SocketPathState = 'free' | 'in-use' | 'not-a-socket';

/** Is something accepting on this unix socket path? */
function isAccepting(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Make `path` free to bind if only a stale socket is in the way; say why not otherwise. */
export async function reclaimSocketPath(path: string): Promise<SocketPathState> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return 'free'; // nothing there: the usual case
  }
  if (!isSocket) return 'not-a-socket';
  if (await isAccepting(path)) return 'in-use';
  unlinkSync(path);
  return 'free';
}
