/**
 * Tracks an HTTP server's connections and in-flight responses so a drain can
 * end keep-alive without racing clients.
 *
 * Why not `server.close()` alone: since Node 19 it closes idle keep-alive
 * connections at once, and a client that is just reusing one gets ECONNRESET;
 * and responses already in flight still advertise keep-alive, so a busy client
 * keeps the old worker alive until the drain timeout. So, while draining:
 * - every response whose headers are not yet sent gets `Connection: close`
 *   (Node then closes the connection after it), including requests that arrive
 *   later on connections that were idle: the client learns in-band to go;
 * - a connection with no request in flight is closed only after it has been
 *   idle for the server's own `keepAliveTimeout` (the hint Node advertises in
 *   `Keep-Alive: timeout=`; Node's client drops its sockets a second before),
 *   which is the same moment Node would close it outside a drain.
 * Upgraded connections (WebSocket) are left to the app's shutdown hooks and to
 * the drain deadline.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

interface ConnectionState {
  active: number;
  lastActivity: number;
}

/** Used when the server has keep-alive timeouts disabled (0). */
const FALLBACK_IDLE_MS = 5_000;
const SWEEP_INTERVAL_MS = 100;

export class HttpConnections {
  readonly #server: HttpServer;
  readonly #sockets = new Map<Socket, ConnectionState>();
  readonly #pending = new Set<ServerResponse>();
  #draining = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(server: HttpServer) {
    this.#server = server;
    const connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection';
    server.prependListener(connectionEvent, (socket: Socket) => this.#add(socket));
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.#request(req, res));
  }

  /** Begin closing keep-alive as described above. Idempotent. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const res of this.#pending) if (!res.headersSent) res.shouldKeepAlive = false;
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  stop(): void {
    clearInterval(this.#sweeper);
  }

  #add(socket: Socket): void {
    this.#sockets.set(socket, { active: 0, lastActivity: Date.now() });
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    if (this.#draining) res.shouldKeepAlive = false;
    const state = this.#sockets.get(req.socket);
    if (state) state.active++;
    this.#pending.add(res);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.#pending.delete(res);
      if (state) {
        state.active--;
        state.lastActivity = Date.now();
      }
    };
    res.once('finish', finish);
    res.once('close', finish);
  }

  #sweep(): void {
    const idleMs = this.#server.keepAliveTimeout > 0 ? this.#server.keepAliveTimeout : FALLBACK_IDLE_MS;
    const now = Date.now();
    for (const [socket, state] of this.#sockets) {
      // A socket without a parser has been upgraded (WebSocket): not ours to close.
      const upgraded = !(socket as Socket & { parser?: unknown }).parser;
      if (state.active === 0 && !upgraded && now - state.lastActivity >= idleMs) socket.destroy();
    }
  }
}
