/**
 * Clients that keep talking across upgrades, as real ones do: each reconnects
 * when its connection closes and carries on where it was, and accounts for
 * every message. Used with test/fixtures/websocket-app.cjs.
 * - `startEchoClient`: `ws` on /ws, one message in flight at a time; a
 *   message whose answer did not come before the close is sent again on the
 *   next connection (counted in `resent`), so `answered` is contiguous.
 * - `startIoClient`: socket.io-client (websocket transport), `echo` emits
 *   with an ack deadline in a loop; an emit that errs (disconnected, or no
 *   ack in time) is emitted again (counted in `retried`); one that errs
 *   ten times is `failed`.
 * Each records its sessions (version, pid, when) and closes (code, when).
 */
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { onCleanup } from './processes.js';

export interface Session {
  readonly version: string;
  readonly pid: number;
  /** Date.now() when the first answer of this session arrived. */
  readonly at: number;
}

export interface Closure {
  readonly at: number;
  /** WebSocket close code seen by the client (1006: no close frame). */
  readonly code: number | undefined;
  readonly reason: string;
  /** The session that closed. */
  readonly pid: number;
}

export interface Accounting {
  readonly sessions: Session[];
  readonly closures: Closure[];
  readonly errors: string[];
  /** Messages answered (echo) or acked (socket.io). */
  answered: number;
  /** Sent again after the connection closed before the answer came. */
  resent: number;
  /** socket.io: emits that never got an ack after 10 tries. */
  failed: number;
  /** The version of the current session. */
  current(): Session | undefined;
  /** Stop sending and close; resolves once closed. */
  stop(): Promise<void>;
}

function accounting(): Omit<Accounting, 'stop'> {
  const sessions: Session[] = [];
  return { sessions, closures: [], errors: [], answered: 0, resent: 0, failed: 0, current: () => sessions.at(-1) };
}

export function startEchoClient(url: string): Accounting {
  const acc = accounting();
  let n = 0;
  let stopped = false;
  let socket: WebSocket | undefined;
  const open = () => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`);
    socket = ws;
    let session: Session | undefined;
    let awaiting = false;
    const send = () => {
      awaiting = true;
      ws.send(String(n));
    };
    ws.on('message', (data) => {
      const text = String(data);
      if (!session) {
        const hello = JSON.parse(text) as { version: string; pid: number };
        session = { version: hello.version, pid: hello.pid, at: Date.now() };
        acc.sessions.push(session);
        return send();
      }
      if (text !== `${session.version}:${n}`) acc.errors.push(`got ${text}, wanted ${session.version}:${n}`);
      awaiting = false;
      acc.answered++;
      n++;
      if (!stopped) send();
    });
    ws.on('error', (error) => acc.errors.push(`${session?.version ?? 'connect'}: ${error.message}`));
    ws.on('close', (code, reason) => {
      if (stopped) return;
      if (session) acc.closures.push({ at: Date.now(), code, reason: String(reason), pid: session.pid });
      if (awaiting) acc.resent++;
      if (session) open();
      else setTimeout(open, 50); // could not connect (recorded in errors): try again shortly
    });
  };
  open();
  onCleanup(() => socket?.terminate());
  return Object.assign(acc, {
    stop: async () => {
      stopped = true;
      const ws = socket!;
      if (ws.readyState === WebSocket.CLOSED) return;
      await new Promise((resolve) => {
        ws.once('close', resolve);
        ws.close(1000);
      });
    },
  });
}

const ACK_MS = 5_000;

export function startIoClient(url: string): Accounting {
  const acc = accounting();
  let stopped = false;
  // A short reconnection delay: the client config a deploy-aware app would use.
  const socket = io(url, { transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 500 });
  onCleanup(() => socket.disconnect());
  let pid = 0;
  socket.on('disconnect', (reason, details) => {
    if (stopped) return;
    const code = (details as { context?: { code?: number } } | undefined)?.context?.code;
    acc.closures.push({ at: Date.now(), code, reason, pid });
  });
  socket.on('connect_error', (error) => acc.errors.push(`connect_error: ${error.message}`));
  let sessionStarted = true;
  socket.on('connect', () => (sessionStarted = true));
  const emit = (n: number, tries: number) => {
    if (stopped) return;
    socket.timeout(ACK_MS).emit('echo', n, (error: Error | null, answer: { version: string; n: number; pid: number }) => {
      if (stopped) return; // the test's own disconnect
      if (error) {
        if (tries >= 10) {
          acc.failed++;
          acc.errors.push(`echo ${n}: ${error.message} (${tries} tries)`);
          return emit(n + 1, 1);
        }
        acc.resent++;
        return emit(n, tries + 1);
      }
      if (answer.n !== n) acc.errors.push(`ack for ${answer.n}, wanted ${n}`);
      if (sessionStarted || answer.pid !== pid) {
        sessionStarted = false;
        pid = answer.pid;
        acc.sessions.push({ version: answer.version, pid: answer.pid, at: Date.now() });
      }
      acc.answered++;
      emit(n + 1, 1);
    });
  };
  emit(0, 1);
  return Object.assign(acc, {
    stop: async () => {
      stopped = true;
      socket.disconnect();
    },
  });
}
