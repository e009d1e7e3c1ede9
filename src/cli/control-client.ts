/**
 * The client side of the control socket (protocol: src/ipc/control.ts).
 * Finds the master's socket the way the master chose it (control-path.ts),
 * or as recorded beside its PID file (control-record.ts), checks that it
 * belongs to us or root, sends one request and reads its answers.
 *
 * Errors: no socket, nobody accepting on it, a socket we do not trust, or
 * no permission to reach it → `ERR_NO_MASTER` (the CLI exits 2: nothing was
 * asked of any master); a deadline passed or the connection closed before
 * the answer → `ERR_CONTROL` (exit 1: the outcome is unknown).
 */
import { type Stats, lstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { ConfigError, OverseerError, systemCode } from '../errors.js';
import {
  CONTROL_VERSION, type ControlRequestType, IS_RESULT_OF, type ReceivedResponse, type ResultOf, type UpgradeProgress, parseControlResponse,
} from '../ipc/control.js';
import { defaultCandidates } from '../ipc/control-path.js';
import { controlRecordPath, readControlRecord } from '../ipc/control-record.js';
import { readLines } from '../ipc/lines.js';
import { controlDirProblem, effectiveUid } from '../ipc/trusted-dir.js';

/** What the user said about which master to reach: `--control` wins, then `--pid-file`, then `--name`. */
export interface ControlLocation {
  readonly control?: string | undefined;
  readonly name: string;
  readonly pidFile?: string | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

export class NoMasterError extends OverseerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NO_MASTER', message, options);
  }
}

/** `--timeout <ms>`: undefined = wait as long as it takes. */
export function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`--timeout must be an integer >= 1 (ms), got \`${value}\``);
  return n;
}

/** A request sent on a connection: its answers are read with `next()`, typed by the request. */
export interface SentRequest<T extends ControlRequestType> {
  readonly id: number;
  readonly type: T;
}

export class ControlConnection {
  readonly path: string;
  readonly #socket: Socket;
  readonly #queue: ReceivedResponse[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #id = 0;

  private constructor(path: string, socket: Socket) {
    this.path = path;
    this.#socket = socket;
    readLines(socket, (line) => {
      const response = parseControlResponse(line);
      if (response) this.#queue.push(response); // a garbled line is skipped
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Connect to the master's socket, once it is found and trusted. */
  static async open(at: ControlLocation): Promise<ControlConnection> {
    const path = findSocket(at, effectiveUid());
    // node:net only once there is a socket to talk to: "no master" is answered without it.
    const { connect } = await import('node:net');
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', (cause) => reject(new NoMasterError(
        systemCode(cause) === 'EACCES' ? permissionDenied(path) : `no master answers on ${path} (${systemCode(cause) ?? cause.message})`,
        { cause },
      )));
    });
    return new ControlConnection(path, socket);
  }

  /** `progress`: ask for `progress` lines (an upgrade's phases), read with `nextEvent()`. */
  send<T extends ControlRequestType>(type: T, options: { progress?: boolean } = {}): SentRequest<T> {
    const id = ++this.#id;
    this.#socket.write(`${JSON.stringify({ v: CONTROL_VERSION, id, type, ...(options.progress ? { progress: true } : {}) })}\n`);
    return { id, type };
  }

  /**
   * The next answer to `request`, typed by its type; progress lines are
   * skipped. Rejects with ERR_CONTROL when the master answers with an error,
   * closes the connection first, or the deadline passes.
   */
  async next<T extends ControlRequestType>(request: SentRequest<T>, timeoutMs?: number): Promise<ResultOf[T]> {
    const deadline = timeoutMs === undefined ? undefined : { at: Date.now() + timeoutMs, ms: timeoutMs };
    for (;;) {
      const event = await this.nextEvent(request, deadline);
      if (event.kind === 'result') return event.result;
    }
  }

  /**
   * The next line for `request`, a progress step or its result, by
   * `deadline` (`at`: ms since the epoch, `ms`: the timeout it came from, for
   * the message; undefined: none). Rejects as `next()` does.
   */
  async nextEvent<T extends ControlRequestType>(
    { id, type }: SentRequest<T>,
    deadline?: { readonly at: number; readonly ms: number },
  ): Promise<{ kind: 'progress'; progress: UpgradeProgress } | { kind: 'result'; result: ResultOf[T] }> {
    for (;;) {
      const index = this.#queue.findIndex((r) => r.id === id || r.id === null);
      if (index >= 0) {
        const [response] = this.#queue.splice(index, 1);
        if (response!.type === 'error') {
          throw new OverseerError('ERR_CONTROL', `the master refused the request: ${response!.error.code}: ${response!.error.message}`);
        }
        if (response!.type === 'progress') return { kind: 'progress', progress: response!.progress };
        const isResult = IS_RESULT_OF[type];
        if (!isResult(response!.result)) throw new OverseerError('ERR_CONTROL', `the master answered '${type}' with something else`);
        return { kind: 'result', result: response!.result };
      }
      if (this.#ended) throw new OverseerError('ERR_CONTROL', 'the master closed the connection before answering');
      const left = deadline === undefined ? undefined : deadline.at - Date.now();
      if (left !== undefined && left <= 0) throw new OverseerError('ERR_CONTROL', `no answer within ${deadline!.ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = left === undefined ? undefined : setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}

/**
 * The socket to talk to: `--control`; else the path recorded beside
 * `--pid-file` (and nothing else: falling back to `--name` could reach
 * another master); else the first default location holding a socket, in
 * directories the master would have used.
 */
function findSocket(at: ControlLocation, uid: number): string {
  if (at.control !== undefined) return trusted(resolve(at.cwd, at.control), uid) ?? noSocket([resolve(at.cwd, at.control)]);
  if (at.pidFile !== undefined) {
    const pidFile = resolve(at.cwd, at.pidFile);
    const record = readControlRecord(pidFile, uid);
    if (record.kind === 'missing') {
      throw new NoMasterError(`no master answers: no control record at ${controlRecordPath(pidFile)} (no master runs with --pid-file ${pidFile})`);
    }
    if (record.kind === 'refused') throw new NoMasterError(`refusing the control record: ${record.message}`);
    return trusted(record.path, uid) ?? noSocket([record.path]);
  }
  const candidates = defaultCandidates(at.name, at.env, uid).filter((c) => c.dir === undefined || controlDirProblem(c.dir, uid) === undefined);
  for (const { path } of candidates) {
    const found = trusted(path, uid);
    if (found !== undefined) return found;
  }
  return noSocket(candidates.map((c) => c.path));
}

/**
 * `path` if a socket is there that we may talk to: a socket (not a link to
 * one) owned by us or root. Anyone else's socket is refused before a byte is
 * sent: whoever placed it could answer anything. Undefined if nothing is there.
 */
function trusted(path: string, uid: number): string | undefined {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch (error) {
    const code = systemCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES') throw new NoMasterError(permissionDenied(path), { cause: error });
    throw new NoMasterError(`no master answers on ${path} (${code ?? String(error)})`, { cause: error });
  }
  if (!stat.isSocket()) throw new NoMasterError(`refusing control socket ${path}: it is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a socket'}`);
  if (stat.uid !== uid && stat.uid !== 0) {
    throw new NoMasterError(`refusing control socket ${path}: it is owned by uid ${stat.uid}, not by you (uid ${uid}) or root`);
  }
  return path;
}

function noSocket(paths: readonly string[]): never {
  throw new NoMasterError(`no master answers: no control socket at ${paths.join(' or ')}`);
}

function permissionDenied(path: string): string {
  return `permission denied on ${path} (run this as the master's user or root)`;
}
