/**
 * The control socket: a unix stream socket on which `overseer upgrade`,
 * `status` and `stop` reach the running master (protocol: src/ipc/control.ts).
 *
 * Contract:
 * - Only the owner can connect. The socket is created with mode 0600 (under
 *   a umask, so there is no moment when it is wider) in a directory that is
 *   ours and private (dir.ts). Node offers no SO_PEERCRED, so the
 *   file mode is the check; root can connect, as root can signal the master
 *   anyway. Clients check the socket's owner before they talk to it.
 * - A socket file left by a master that died (nobody accepts on it) is
 *   replaced; one a live master answers on is "already running".
 * - A malformed, oversized or unknown request gets an `error` line and the
 *   connection is closed; nothing a client sends can throw in the master.
 * - An `upgrade` with `progress: true` gets `progress` lines (progress.ts)
 *   besides its `result`. They are dropped, never queued, while more than
 *   PROGRESS_HIGH_WATER bytes wait unsent on that connection, so a client
 *   that does not read cannot grow the master's memory; the `result` and the
 *   closing `done` line are always written.
 * - `close()` sends the `stopped` answer to clients waiting for a stop, then
 *   closes every connection and removes the socket file, and the directory
 *   overseer made for it when that is empty. A failed open leaves neither.
 * - Self-upgrade (src/master/succession/): a successor opens its socket with
 *   `replace`: bound under a temporary name in the same directory, then
 *   renamed over the predecessor's, so a client always finds a socket that
 *   answers. The predecessor then `abandon()`s its own (answers what it
 *   accepted, never removes the file, which is the successor's now), or
 *   `reclaim()`s the path when the successor failed after the rename. The
 *   file is removed at `close()` only while it is still this socket (same
 *   inode).
 */
import { dirname, join } from 'node:path';
import type { Server, Socket } from 'node:net';
import { ConfigError, OverseerError, systemCode } from '../../errors.js';
import {
  CONTROL_VERSION, type ControlRequest, type ControlRequestType, type ControlResponse, type ControlResult, MAX_REQUEST_BYTES,
  type MasterStatus, type ResultOf, type SelfUpgradeOutcome, type UpgradeOutcome, type UpgradeProgress, parseControlRequest,
} from '../../ipc/control.js';
import type { ControlCandidate } from '../../ipc/control-path.js';
import { readLines } from '../../ipc/lines.js';
import { socketPathProblem } from '../../ipc/socket-path.js';
import { effectiveUid } from '../../ipc/trusted-dir.js';
import { makeControlDir, removeControlDir } from './dir.js';
import { type ProgressSource, followUpgrade } from './progress.js';
import { reclaimSocketPath } from '../sockets/stale-socket.js';

const { existsSync, lstatSync, renameSync, unlinkSync } = process.getBuiltinModule('node:fs');
const { createServer } = process.getBuiltinModule('node:net');

/** What the control socket asks of the master. */
export interface ControlTarget extends ProgressSource {
  readonly pid: number;
  upgrade(trigger: string): Promise<UpgradeOutcome>;
  status(): MasterStatus;
  stop(reason: string): Promise<void>;
  /** `overseer upgrade --self` (succession/replace-self.ts); `node`: the successor's Node.js binary. */
  upgradeSelf(request: { readonly node?: string }): Promise<SelfUpgradeOutcome>;
}

export type ControlLog = (level: 'debug' | 'info' | 'warn', fields: { event: string } & Record<string, unknown>, message: string) => void;

export interface ControlServer {
  readonly path: string;
  /** Send `stopped` to stop requesters (with the stop's duration), close everything, remove the socket. */
  close(stoppedAfterMs?: number): Promise<void>;
  /** A successor holds the path now: end the connections after their answers; leave the file. */
  abandon(): void;
  /** The successor failed after it took the path: put a socket of ours there again (if it is not ours). */
  reclaim(): Promise<void>;
}

export interface OpenOptions {
  /** Take the path from the live master serving on it (a successor), by rename. */
  readonly replace?: boolean;
}

/** Unsent bytes on a connection above which progress lines are dropped (a few hundred lines). */
const PROGRESS_HIGH_WATER = 16 * 1024;

/** How long `close()` waits for clients to read their last answer. */
const CLOSE_GRACE_MS = 1_000;

/**
 * How often to make the directory and bind again when the directory vanished
 * in between: another master stopping removes it once it is empty.
 */
const BIND_ATTEMPTS = 3;

export async function openControlServer(where: ControlCandidate, target: ControlTarget, log: ControlLog, open: OpenOptions = {}): Promise<ControlServer> {
  const problem = socketPathProblem(where.path);
  if (problem) throw new ConfigError(`control socket ${where.path} ${problem}; pass a shorter --control <path>`);
  const uid = effectiveUid();
  const removeDir = () => {
    if (where.dir !== undefined) removeControlDir(where.dir, uid);
  };

  const connections = new Set<Socket>();
  const stopWaiters = new Map<Socket, number>();
  const newServer = () => createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => {
      connections.delete(socket);
      stopWaiters.delete(socket);
    });
    socket.on('error', () => {}); // a client that went away; its 'close' follows
    serve(socket, target, log, (id) => stopWaiters.set(socket, id));
  });
  const servers: Server[] = [];
  /** The inode of the socket file of ours at the path (what close() may remove). */
  let ownIno: number | undefined;
  const bind = async (replace: boolean) => {
    const server = newServer();
    if (replace) await bindReplacing(server, where, uid);
    else await bindInDir(server, where, uid);
    servers.push(server);
    ownIno = lstatSync(where.path).ino;
  };
  try {
    await bind(open.replace === true);
  } catch (error) {
    if (!open.replace) removeDir();
    throw error;
  }
  log('info', { event: 'control.listening', path: where.path }, `control socket ${where.path}`);
  const isOurs = () => {
    try {
      return ownIno !== undefined && lstatSync(where.path).ino === ownIno;
    } catch {
      return false;
    }
  };

  let closing: Promise<void> | undefined;
  return {
    path: where.path,
    abandon() {
      ownIno = undefined;
      for (const socket of connections) socket.end();
    },
    async reclaim() {
      if (isOurs()) return;
      await bind(true);
      log('info', { event: 'control.listening', path: where.path }, `control socket ${where.path} (taken back)`);
    },
    close(stoppedAfterMs = 0) {
      closing ??= new Promise<void>((resolve) => {
        // libuv removes the name each server was bound to; a renamed one's
        // file is removed here, while it is still ours.
        if (isOurs()) {
          try {
            unlinkSync(where.path);
          } catch {
            // gone already
          }
        }
        let open = servers.length;
        const closed = () => {
          if (--open > 0) return;
          removeDir();
          resolve();
        };
        if (open === 0) closed();
        for (const server of servers) server.close(closed);
        for (const [socket, id] of stopWaiters) {
          write(socket, { v: CONTROL_VERSION, id, type: 'result', result: { stage: 'stopped', pid: target.pid, durationMs: stoppedAfterMs } });
        }
        for (const socket of connections) socket.end();
        // A client that does not read its answer must not hold the exit.
        setTimeout(() => {
          for (const socket of connections) socket.destroy();
        }, CLOSE_GRACE_MS).unref();
      });
      return closing;
    },
  };
}

/** Read request lines from one connection and answer each. */
function serve(socket: Socket, target: ControlTarget, log: ControlLog, awaitStop: (id: number) => void): void {
  const tooLarge = () => reject(socket, log, null, 'request-too-large', `request is over ${MAX_REQUEST_BYTES} bytes`);
  readLines(socket, (line) => {
    if (line.trim() === '') return;
    const parsed = parseControlRequest(line);
    if (!parsed.ok) {
      reject(socket, log, parsed.id, parsed.code, parsed.message);
      return 'stop';
    }
    handle(socket, parsed.request, target, log, awaitStop);
  }, { maxBytes: MAX_REQUEST_BYTES, onOverflow: tooLarge });
}

/** What a handler may use besides the answer: the request, a stream of progress, the stop hook. */
interface HandlerContext {
  readonly request: ControlRequest;
  /** Send a progress line for this request (dropped when the client does not keep up; `done` never is). */
  progress(step: UpgradeProgress): void;
  /** Run `cleanup` when the connection closes. */
  onClose(cleanup: () => void): void;
  awaitStop(): void;
}

/** How one request type is answered: `answer` takes exactly what ResultOf says that type gets. */
type Handler<K extends ControlRequestType> = (target: ControlTarget, answer: (result: ResultOf[K]) => void, ctx: HandlerContext) => void;

/** One handler per request type; a request type without one fails the build. */
const HANDLERS: { readonly [K in ControlRequestType]: Handler<K> } = {
  status: (target, answer) => answer(target.status()),
  // Resolves with this upgrade's outcome, or with the coalesced follow-up's
  // when one is already running; never rejects. With progress, the phases
  // stream before the outcome and the old generation's drain after it.
  upgrade: (target, answer, ctx) => {
    if (!ctx.request.progress) {
      void target.upgrade('control').then(answer);
      return;
    }
    const follower = followUpgrade(target, (step) => ctx.progress(step));
    ctx.onClose(() => follower.close());
    void target.upgrade('control').then((outcome) => {
      answer(outcome);
      follower.settle(outcome);
    });
  },
  // Answered once the successor has taken over (this master then drains) or failed (this master goes on).
  'upgrade-self': (target, answer, ctx) => {
    void target.upgradeSelf(ctx.request.node === undefined ? {} : { node: ctx.request.node }).then(answer);
  },
  stop: (target, answer, ctx) => {
    ctx.awaitStop();
    answer({ stage: 'stopping', pid: target.pid });
    void target.stop('control');
  },
};

function handle(socket: Socket, request: ControlRequest, target: ControlTarget, log: ControlLog, awaitStop: (id: number) => void): void {
  log('info', { event: 'control.request', type: request.type, id: request.id }, `control request: ${request.type}`);
  const ctx: HandlerContext = {
    request,
    progress: (step) => {
      if (step.phase !== 'done' && socket.writableLength > PROGRESS_HIGH_WATER) return;
      write(socket, { v: CONTROL_VERSION, id: request.id, type: 'progress', progress: step });
    },
    onClose: (cleanup) => {
      if (socket.destroyed) cleanup();
      else socket.once('close', cleanup);
    },
    awaitStop: () => awaitStop(request.id),
  };
  try {
    dispatch(request.type, socket, request.id, target, ctx);
  } catch (error) {
    reject(socket, log, request.id, 'internal-error', error instanceof Error ? error.message : String(error));
  }
}

function dispatch<K extends ControlRequestType>(type: K, socket: Socket, id: number, target: ControlTarget, ctx: HandlerContext): void {
  const handler: Handler<K> = HANDLERS[type];
  handler(target, (result) => write(socket, reply(id, type, result)), ctx);
}

/** The answer line to request `id` of type `K`. */
function reply<K extends ControlRequestType>(id: number, _type: K, result: ResultOf[K]): ControlResult<K> {
  return { v: CONTROL_VERSION, id, type: 'result', result };
}

function reject(socket: Socket, log: ControlLog, id: number | null, code: Extract<ControlResponse, { type: 'error' }>['error']['code'], message: string): void {
  log('warn', { event: 'control.rejected', code, id }, `control request rejected: ${message}`);
  write(socket, { v: CONTROL_VERSION, id, type: 'error', error: { code, message } });
  socket.end();
}

function write(socket: Socket, response: ControlResponse): void {
  if (socket.writable) socket.write(`${JSON.stringify(response)}\n`);
}

/** Make the directory, clear a stale socket, bind; again if the directory vanished meanwhile. */
async function bindInDir(server: Server, where: ControlCandidate, uid: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (where.dir !== undefined) makeControlDir(where.dir, uid);
    await clearStale(where.path);
    try {
      await listenPrivately(server, where.path);
      return;
    } catch (error) {
      // libuv reports a missing directory as EACCES, so look for it instead.
      const vanished = where.dir !== undefined && !existsSync(where.dir.path);
      if (!vanished || attempt >= BIND_ATTEMPTS) throw error;
    }
  }
}

/**
 * Bind under a temporary name in the path's directory, then rename over the
 * path: the predecessor's socket stays reachable until this one is.
 */
async function bindReplacing(server: Server, where: ControlCandidate, uid: number): Promise<void> {
  if (where.dir !== undefined) makeControlDir(where.dir, uid);
  const temporary = join(dirname(where.path), `.overseer-${process.pid}.sock`);
  const problem = socketPathProblem(temporary);
  if (problem) throw new ConfigError(`cannot take over control socket ${where.path}: the temporary ${temporary} ${problem}; pass a shorter --control <path>`);
  await clearStale(temporary);
  await listenPrivately(server, temporary);
  try {
    renameSync(temporary, where.path);
  } catch (cause) {
    server.close();
    throw new OverseerError('ERR_CONTROL', `cannot take over control socket ${where.path}: ${systemCode(cause) ?? String(cause)}`, { cause });
  }
}

/** Remove a socket file nobody answers on; refuse a live one and anything that is not a socket. */
async function clearStale(path: string): Promise<void> {
  const state = await reclaimSocketPath(path);
  if (state === 'not-a-socket') throw new OverseerError('ERR_CONTROL', `control socket path ${path} exists and is not a socket; not replacing it`);
  if (state === 'in-use') throw new OverseerError('ERR_ALREADY_RUNNING', `a master is already running on control socket ${path}: already running`);
}

/** Listen with the socket file created as 0600 from the start. */
function listenPrivately(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (cause) =>
      reject(new OverseerError('ERR_CONTROL', `cannot create control socket ${path}: ${systemCode(cause) ?? cause.message}`, { cause })));
    // bind() runs synchronously inside listen(), so the umask covers exactly
    // the creation of the socket file.
    const previous = process.umask(0o177);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(previous);
    }
  });
}
