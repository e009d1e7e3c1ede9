/**
 * The client side of the control socket (protocol: src/ipc/control.ts).
 * Finds the master's socket the way the master chose it (control-path.ts),
 * sends one request and reads its answers.
 *
 * Errors: no socket, or nobody accepting on it → `ERR_NO_MASTER` (the CLI
 * exits 2: "no master answers"); a deadline passed or the connection closed
 * before the answer → `ERR_CONTROL` (exit 1: the outcome is unknown).
 */
import { lstatSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { ConfigError, OverseerError, systemCode } from '../errors.js';
import { CONTROL_VERSION, type ControlRequestType, type ControlResponse, type ResultOf } from '../ipc/control.js';
import { type ControlLocation, controlCandidates } from '../ipc/control-path.js';
import { readLines } from '../ipc/lines.js';

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

export class ControlConnection {
  readonly path: string;
  readonly #socket: Socket;
  readonly #queue: ControlResponse[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #id = 0;

  private constructor(path: string, socket: Socket) {
    this.path = path;
    this.#socket = socket;
    readLines(socket, (line) => {
      try {
        this.#queue.push(JSON.parse(line) as ControlResponse);
      } catch {
        // not ours to judge further: a garbled line is skipped
      }
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

  /** Connect to the first candidate socket that exists. */
  static async open(at: ControlLocation): Promise<ControlConnection> {
    const candidates = controlCandidates(at);
    const path = candidates.map((c) => c.path).find(exists);
    if (path === undefined) {
      throw new NoMasterError(`no master answers: no control socket at ${candidates.map((c) => c.path).join(' or ')}`);
    }
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', (cause) => reject(new NoMasterError(`no master answers on ${path} (${systemCode(cause) ?? cause.message})`, { cause })));
    });
    return new ControlConnection(path, socket);
  }

  send(type: ControlRequestType): number {
    const id = ++this.#id;
    this.#socket.write(`${JSON.stringify({ v: CONTROL_VERSION, id, type })}\n`);
    return id;
  }

  /**
   * The next answer to request `id`. Rejects with ERR_CONTROL when the
   * master answers with an error, closes the connection first, or the
   * deadline passes.
   */
  async next<T extends ControlRequestType>(id: number, _type: T, timeoutMs?: number): Promise<ResultOf[T]> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const index = this.#queue.findIndex((r) => r.id === id || r.id === null);
      if (index >= 0) {
        const [response] = this.#queue.splice(index, 1);
        if (response!.type === 'error') {
          throw new OverseerError('ERR_CONTROL', `the master refused the request: ${response!.error.code}: ${response!.error.message}`);
        }
        return response!.result as ResultOf[T];
      }
      if (this.#ended) throw new OverseerError('ERR_CONTROL', 'the master closed the connection before answering');
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) throw new OverseerError('ERR_CONTROL', `no answer within ${timeoutMs} ms`);
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

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
