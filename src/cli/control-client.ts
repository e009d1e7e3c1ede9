/**
 * The client side of the control socket (protocol: src/ipc/control.ts): one
 * connection to a master found and trusted by find-master.ts, on which it
 * sends requests and reads their answers, typed by request.
 *
 * Errors: the master refused the request, a deadline passed, or the
 * connection closed before the answer → `ERR_CONTROL` (the CLI exits 1: the
 * outcome is unknown).
 */
import type { Socket } from 'node:net';
import { OverseerError } from '../errors.js';
import {
  CONTROL_VERSION, type ControlRequestType, IS_RESULT_OF, type ReceivedResponse, type ResultOf, type UpgradeProgress, parseControlResponse,
} from '../ipc/control.js';
import { readLines } from '../ipc/lines.js';

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

  /** A connection on `socket`, connected to the master's socket at `path` (find-master.ts). */
  static over(path: string, socket: Socket): ControlConnection {
    return new ControlConnection(path, socket);
  }

  /** `progress`: ask for `progress` lines (an upgrade's phases), read with `nextEvent()`. */
  send<T extends ControlRequestType>(type: T, options: { progress?: boolean; node?: string } = {}): SentRequest<T> {
    const id = ++this.#id;
    const extra = { ...(options.progress ? { progress: true } : {}), ...(options.node === undefined ? {} : { node: options.node }) };
    this.#socket.write(`${JSON.stringify({ v: CONTROL_VERSION, id, type, ...extra })}\n`);
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
