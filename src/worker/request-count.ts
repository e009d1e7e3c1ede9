/**
 * Counts the HTTP requests a server receives, for the heartbeat's `requests`
 * (a monotonic counter the master sums across workers).
 *
 * Observed by wrapping the server's `emit`, not with listeners: a `'request'`
 * listener on an HTTP/2 server turns on its compatibility layer (request and
 * response objects for every stream) even for an app that only handles
 * `'stream'`. What counts: every `'stream'` (HTTP/2), and every `'request'`
 * but those the HTTP/2 compatibility layer makes from a stream already counted
 * (their request object has a `stream`). One comparison per event emitted.
 */
import type { Server as NetServer } from 'node:net';

export function countRequests(server: NetServer, count: () => void): void {
  const emit = server.emit as (...args: unknown[]) => boolean;
  server.emit = function emitCounted(this: NetServer, ...args: unknown[]): boolean {
    const event = args[0];
    if (event === 'stream' || (event === 'request' && !(args[1] as { stream?: unknown } | undefined)?.stream)) count();
    return emit.apply(this, args);
  } as NetServer['emit'];
}
