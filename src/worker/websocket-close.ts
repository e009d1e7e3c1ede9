/**
 * Closes one HTTP server's WebSocket connections with a close frame when the
 * worker drains, instead of leaving them to be cut at the drain deadline: the
 * client sees 1001 "going away" and reconnects at once, to the generation that
 * is live by then (a drain starts only after the new one accepts).
 *
 * Which connections: those that left HTTP through the server's `upgrade`
 * event with `Upgrade: websocket`, and only once the app has written a `101`
 * response (other upgrades, and refused handshakes, are never written to).
 * We watch `upgrade` by wrapping the server's `emit`, not with a listener: a
 * listener would make Node keep upgrade requests of apps that have none,
 * which it otherwise destroys.
 *
 * Where in the stream: the app writes frames through `socket.write`/`end`,
 * one frame possibly in several calls (ws writes header and payload apart,
 * corked). Both are wrapped on the socket object; every byte the app writes
 * is counted through `OutgoingFrames`, and ours is written only when the
 * bytes so far end a complete frame. The Writable keeps write order, so our
 * frame lands exactly there on the wire, however much is still buffered. A
 * close frame the app writes itself (its own onShutdown hook) cancels ours.
 *
 * After our close frame the protocol forbids more data from this side, so
 * later app writes are dropped (their callbacks succeed, as for bytes a peer
 * never reads); the app's `end()` still goes through. The client answers
 * with its close frame, the app's WebSocket library replies (dropped) and
 * ends the socket; if nothing ends it within CLOSE_HANDSHAKE_MS it is
 * destroyed. When: each connection at its own moment of the close spread.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { CloseSpread } from './close-spread.js';
import { OutgoingFrames, closeFrame } from './websocket-frames.js';

/** RFC 6455 §7.4.1: "an endpoint is going away, such as a server going down". See docs/decisions.md. */
export const CLOSE_CODE = 1001;
export const CLOSE_REASON = 'going away';
/** How long a client has to answer our close before the connection is destroyed. */
export const CLOSE_HANDSHAKE_MS = 5_000;

type Write = (...args: unknown[]) => boolean;
type End = (...args: unknown[]) => Socket;

interface Upgraded {
  readonly socket: Socket;
  readonly frames: OutgoingFrames;
  readonly write: Write;
  /** open → closing (our moment came, waiting for a frame boundary) → closed (our frame written). */
  state: 'open' | 'closing' | 'closed';
  timer: NodeJS.Timeout | undefined;
}

export class WebSocketCloser {
  readonly #connections = new Set<Upgraded>();
  readonly #spread: CloseSpread;
  #draining = false;

  constructor(server: HttpServer, spread: CloseSpread) {
    this.#spread = spread;
    const emit = server.emit as (...args: unknown[]) => boolean;
    const adopt = (req: IncomingMessage, socket: Socket) => this.#adopt(req, socket);
    server.emit = function emitObserved(this: HttpServer, ...args: unknown[]) {
      if (args[0] === 'upgrade') adopt(args[1] as IncomingMessage, args[2] as Socket);
      return emit.apply(this, args);
    } as HttpServer['emit'];
  }

  /** Schedule every connection's close at its moment of the spread. Idempotent. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const connection of this.#connections) this.#schedule(connection);
  }

  /**
   * Stop closing (a standby worker resumes): connections whose moment has
   * not come stay open; those already closing finish their close.
   */
  resume(): void {
    if (!this.#draining) return;
    this.#draining = false;
    for (const connection of this.#connections) {
      if (connection.state !== 'open') continue;
      clearTimeout(connection.timer);
      connection.timer = undefined;
    }
  }

  #adopt(req: IncomingMessage, socket: Socket): void {
    if (!/^websocket$/i.test(String(req.headers.upgrade ?? '').trim())) return;
    const connection: Upgraded = {
      socket,
      frames: new OutgoingFrames(),
      write: socket.write as unknown as Write,
      state: 'open',
      timer: undefined,
    };
    const end = socket.end as unknown as End;
    const self = this;
    socket.write = function write(this: Socket, ...args: unknown[]): boolean {
      if (connection.state === 'closed') return dropped(args);
      observe(connection.frames, args[0], args[1]);
      const ok = connection.write.apply(this, args);
      if (connection.state === 'closing') self.#closeIfBetweenFrames(connection);
      return ok;
    } as Socket['write'];
    socket.end = function endObserved(this: Socket, ...args: unknown[]): Socket {
      if (connection.state === 'closed') {
        const callback = args.find((a) => typeof a === 'function');
        return end.apply(this, callback ? [callback] : []);
      }
      if (typeof args[0] !== 'function') observe(connection.frames, args[0], args[1]);
      connection.frames.abandon(); // nothing may follow the app's end
      return end.apply(this, args);
    } as Socket['end'];
    this.#connections.add(connection);
    socket.once('close', () => {
      clearTimeout(connection.timer);
      this.#connections.delete(connection);
    });
    if (this.#draining) this.#schedule(connection);
  }

  #schedule(connection: Upgraded): void {
    connection.timer = setTimeout(() => {
      if (connection.state !== 'open') return;
      connection.state = 'closing';
      this.#closeIfBetweenFrames(connection);
    }, this.#spread.delay(connection.socket));
    connection.timer.unref();
  }

  #closeIfBetweenFrames(connection: Upgraded): void {
    const { socket, frames } = connection;
    if (frames.closeWritten || frames.phase === 'foreign') {
      connection.state = 'open'; // the app closes it, or it is not ours to close
      return;
    }
    if (!frames.atBoundary || socket.destroyed || !socket.writable) return;
    connection.state = 'closed';
    connection.write.call(socket, closeFrame(CLOSE_CODE, CLOSE_REASON));
    connection.timer = setTimeout(() => socket.destroy(), CLOSE_HANDSHAKE_MS);
    connection.timer.unref();
  }
}

/** Feed what a `write(chunk, encoding)` call adds to the stream. */
function observe(frames: OutgoingFrames, chunk: unknown, encoding: unknown): void {
  if (typeof chunk === 'string') frames.feed(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
  else if (chunk instanceof Uint8Array) frames.feed(chunk);
  else if (chunk !== undefined && chunk !== null) frames.abandon(); // Node will reject it; not a stream we can follow
}

/** A write after our close frame: not sent; its callback runs as for a write the peer never reads. */
function dropped(args: unknown[]): boolean {
  const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
  if (callback) process.nextTick(callback);
  return true;
}
