/**
 * Tracks an HTTP/2 server's sessions so a drain moves their clients to the
 * new generation in-band, without failing a stream. Applies to every server
 * that emits `'session'` (`http2.createServer`, `createSecureServer`, and what
 * is built on them: grpc-js, fastify with `http2: true`, …); `node:http2`
 * itself is never imported (it costs every worker ~7 ms at start-up).
 *
 * Why not `server.close()` alone: it stops accepting and leaves every session
 * open (nodejs/node#57611), so clients keep sending streams to the old worker
 * until the drain deadline kills it with streams in flight.
 *
 * While draining, every session (including one set up after the drain began,
 * on a connection accepted before the listener closed) is closed with
 * `session.close()`: one GOAWAY `NO_ERROR` naming the last stream the server
 * has seen. Streams up to it finish normally; the session ends when the last
 * of them does (Node then ends the socket and waits for the client to close
 * its side, so nothing unread is cut by a reset); the client opens its next
 * streams on a new connection, which the new generation accepts.
 *
 * The race with streams the client opens while the GOAWAY is on its way:
 * those are above the GOAWAY's last stream id, so the server has not
 * processed them and says so; clients may retry them safely (RFC 9113 §6.8,
 * §8.7), as grpc-js does transparently. Envoy narrows the race with a first
 * GOAWAY naming the largest stream id (nghttp2's shutdown notice) and the real
 * one later, but Node (20 to 26) exposes no shutdown notice, and nghttp2
 * ignores every new stream after any other GOAWAY: a first GOAWAY with the
 * largest id would only delay the refusal of racing streams until the second.
 *
 * The server's `close` callback fires once every session's socket has closed,
 * so the worker's idle signal already waits for sessions; nothing else to count.
 */
import type { Server as NetServer } from 'node:net';

/** The parts of `http2.Http2Session` used here. */
interface Session {
  readonly closed: boolean;
  readonly destroyed: boolean;
  close(): void;
  once(event: 'close', listener: () => void): unknown;
}

function isSession(value: unknown): value is Session {
  const session = value as { goaway?: unknown; close?: unknown; once?: unknown } | null;
  return typeof session?.goaway === 'function' && typeof session.close === 'function' && typeof session.once === 'function';
}

export class Http2Sessions {
  readonly #sessions = new Set<Session>();
  #draining = false;

  constructor(server: NetServer) {
    server.on('session', (session: unknown) => {
      if (!isSession(session)) return;
      if (this.#draining) return closeSession(session);
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
  }

  /** Close every session, and every later one, as described above. Idempotent. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const session of this.#sessions) closeSession(session);
    this.#sessions.clear();
  }

  /** New sessions stay open again (a standby worker resumes); closed ones stay closed. */
  resume(): void {
    this.#draining = false;
  }
}

function closeSession(session: Session): void {
  if (!session.closed && !session.destroyed) session.close();
}
