/**
 * Tracks an HTTP server's connections so a drain can end keep-alive without
 * racing clients. Costs one listener per connection, nothing per request:
 * Node already records each connection's in-flight response as
 * `socket._httpMessage`, and the request hook is added only when draining.
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
 *   the same moment Node would close it outside a drain (Node's own idle timer
 *   keeps running too, and may close it earlier).
 * The `Connection: close` of each connection waits for that connection's
 * moment of the close spread (close-spread.ts): under load every client would
 * otherwise reconnect within milliseconds of the drain, all at once. Idle
 * closes are not spread: the client of an idle connection reconnects only
 * when it has a request, and Node's own idle timer would close it then anyway.
 * Upgraded connections are not HTTP any more: WebSockets are closed by
 * websocket-close.ts, the rest is left to the app's hooks and the deadline.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { CloseSpread } from './close-spread.js';

type HttpSocket = Socket & {
  /** The response being written on this connection (Node internal). */
  _httpMessage?: ServerResponse | null;
  /** The HTTP parser; gone once the connection was upgraded (Node internal). */
  parser?: unknown;
};

/** Used when the server has keep-alive timeouts disabled (0). */
const FALLBACK_IDLE_MS = 5_000;
const SWEEP_INTERVAL_MS = 100;

export class HttpConnections {
  readonly #server: HttpServer;
  readonly #spread: CloseSpread;
  readonly #sockets = new Set<HttpSocket>();
  /** While draining: when each connection was first seen idle. */
  readonly #idleSince = new Map<HttpSocket, number>();
  #draining = false;
  #sweeper: NodeJS.Timeout | undefined;
  #onRequest: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  constructor(server: HttpServer, spread: CloseSpread) {
    this.#server = server;
    this.#spread = spread;
    const connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection';
    server.prependListener(connectionEvent, (socket: HttpSocket) => {
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#idleSince.delete(socket);
      });
    });
  }

  /** Begin closing keep-alive as described above (the spread must have started). Idempotent. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#onRequest = (req, res) => {
      if (this.#spread.due(req.socket)) res.shouldKeepAlive = false;
    };
    this.#server.prependListener('request', this.#onRequest);
    this.#sweep();
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  stop(): void {
    clearInterval(this.#sweeper);
  }

  /**
   * Undo `drain()` (a standby worker resumes): responses keep their
   * keep-alive again; connections already told to go still go.
   */
  resume(): void {
    if (!this.#draining) return;
    this.#draining = false;
    this.stop();
    if (this.#onRequest) this.#server.off('request', this.#onRequest);
    this.#onRequest = undefined;
    this.#idleSince.clear();
  }

  #sweep(): void {
    const idleMs = this.#server.keepAliveTimeout > 0 ? this.#server.keepAliveTimeout : FALLBACK_IDLE_MS;
    const now = Date.now();
    for (const socket of this.#sockets) {
      const upgraded = !socket.parser;
      if (upgraded || socket._httpMessage) {
        // Busy: once its moment has come, its response carries `Connection: close` and ends it.
        const res = socket._httpMessage;
        if (res && !res.headersSent && this.#spread.due(socket, now)) res.shouldKeepAlive = false;
        this.#idleSince.delete(socket);
        continue;
      }
      const since = this.#idleSince.get(socket);
      if (since === undefined) this.#idleSince.set(socket, now);
      else if (now - since >= idleMs) socket.destroy();
    }
  }
}
