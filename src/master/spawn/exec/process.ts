/**
 * A program started with `--exec` (not Node: no preload, no IPC channel)
 * presented as a `WorkerProcess` that speaks our protocol, so WorkerHandle and
 * the upgrade state machine drive it unchanged. What it translates:
 *
 * - start: one `listen` request per socket handed over (fds 3…), so the
 *   WorkerHandle records the worker's listeners as for a Node worker. The
 *   replies (with a handle the program does not need: it has the descriptor
 *   already) end here.
 * - ready: a line `READY=1` on the ready pipe (`$OVERSEER_READY_FD`), or
 *   `readyDelayMs` after the start if set, whichever comes first; sent once,
 *   and only after every `listen` reply is in (as the preload does).
 * - `activate`: acknowledged at once. A socket-activated program accepts from
 *   its start, on a socket that is already listening; it cannot be held back
 *   (docs/operations.md says what that costs).
 * - `drain`: SIGTERM now, SIGKILL at the drain's `timeoutMs`.
 * - exit: 'disconnect', then 'exit', as a forked child's channel does.
 *
 * Nothing is dropped silently: a message from the master this adapter cannot
 * translate comes back as an envelope of an unknown type (the master logs it
 * as `worker.message`, kind `invalid`), and a line on the ready pipe other
 * than `READY=1` comes back as a foreign message (`worker.message`, kind
 * `foreign`, debug level).
 */
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { IpcError } from '../../../errors.js';
import type { ListenAddress } from '../../../ipc/address.js';
import { PROTOCOL_VERSION } from '../../../ipc/envelope.js';
import { type ToWorker, parseToWorker } from '../../../ipc/to-worker.js';
import type { Clock } from '../../../clock.js';
import type { WorkerProcess } from '../spawner.js';
import { type ExecPhase, IllegalExecTransition, canTransition } from './phase.js';

/** What the adapter uses of the spawned child. */
export interface ExecChild {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface ExecProcessOptions {
  /** The addresses of the sockets at fds 3…, in order. */
  readonly addresses: readonly ListenAddress[];
  /** The master's end of the ready pipe. */
  readonly ready: Readable | null;
  readonly readyDelayMs: number | undefined;
  readonly clock: Clock;
}

/** The line a program writes to say it is ready (sd_notify's wording). */
export const READY_LINE = 'READY=1';
/** A ready pipe that sends this much without a newline is not speaking our protocol. */
const MAX_LINE = 4096;

export class ExecProcess extends EventEmitter implements WorkerProcess {
  readonly pid: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Changed only by `#enter()` (phase.ts). */
  #phase: ExecPhase;
  readonly #child: ExecChild;
  readonly #options: ExecProcessOptions;
  readonly #pendingListens = new Set<number>();
  readonly #cancels: Array<() => void> = [];
  /** `READY=1` (or the ready delay) came: a fact, which may precede the `listen` replies. */
  #readySignalled = false;
  #line = '';

  constructor(child: ExecChild, options: ExecProcessOptions) {
    super();
    this.#child = child;
    this.#options = options;
    this.pid = child.pid;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    // No pid: the spawn failed, and 'error' follows.
    this.#phase = child.pid === undefined ? 'exited' : 'starting';
    child.on('exit', (code, signal) => {
      this.#disconnect();
      this.emit('exit', code, signal);
    });
    child.on('error', (error) => {
      if (this.pid === undefined) this.#disconnect();
      this.emit('error', error);
    });
    if (this.#phase === 'exited') return;
    const ready = options.ready;
    if (ready) {
      ready.setEncoding('utf8');
      ready.on('data', (chunk: string) => this.#onReadyData(chunk));
      ready.on('error', () => {}); // the program closed its end: nothing to report
    }
    if (options.readyDelayMs !== undefined) this.#cancels.push(options.clock.setTimeout(() => this.#signalReady(), options.readyDelayMs));
    // After the caller (WorkerHandle) has attached its listeners.
    process.nextTick(() => this.#requestListens());
  }

  get connected(): boolean {
    return this.#phase !== 'exited';
  }

  #enter(phase: ExecPhase): void {
    if (!canTransition(this.#phase, phase)) throw new IllegalExecTransition(this.#phase, phase);
    this.#phase = phase;
  }

  /** The master → worker direction: translated here, asynchronously, as an IPC delivery would be. */
  send(message: unknown, _handle?: unknown, _options?: object, callback?: (error: Error | null) => void): boolean {
    if (!this.connected) {
      const error = new IpcError('ERR_IPC_CLOSED', `program ${this.pid ?? '(not started)'} has exited`);
      process.nextTick(() => callback?.(error));
      return false;
    }
    process.nextTick(() => {
      callback?.(null);
      if (this.connected) this.#receive(message);
    });
    return true;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    try {
      return this.#child.kill(signal);
    } catch {
      return false; // already gone: 'exit' follows
    }
  }

  #receive(value: unknown): void {
    const message: ToWorker | undefined = parseToWorker(value);
    if (message === undefined) return this.#unhandled(value);
    switch (message.type) {
      case 'activate':
        // Accepting since its start: confirm at once.
        return this.#toMaster({ type: 'reply', seq: message.seq, ok: true, result: {} });
      case 'drain':
        return this.#drain(message.timeoutMs);
      case 'standby':
      case 'resume':
        // A program that accepts from its start cannot stop and accept again without a restart.
        return this.#toMaster({ type: 'reply', seq: message.seq, ok: false, error: { code: 'ERR_EXEC_STANDBY', message: `--exec workers cannot ${message.type}` } });
      case 'reply': {
        if (!this.#pendingListens.delete(message.seq) || !message.ok) return this.#unhandled(value);
        return this.#maybeReady();
      }
      default: {
        const unknown: never = message;
        return this.#unhandled(unknown);
      }
    }
  }

  #requestListens(): void {
    if (this.#phase !== 'starting') return;
    this.#options.addresses.forEach((address, index) => {
      const seq = index + 1;
      this.#pendingListens.add(seq);
      this.#toMaster({ type: 'listen', seq, address });
    });
    this.#enter('awaiting-ready');
    this.#maybeReady();
  }

  #onReadyData(chunk: string): void {
    this.#line += chunk;
    let newline;
    while ((newline = this.#line.indexOf('\n')) >= 0) {
      const line = this.#line.slice(0, newline).replace(/\r$/, '');
      this.#line = this.#line.slice(newline + 1);
      if (line === READY_LINE) this.#signalReady();
      else if (line.trim() !== '') this.emit('message', { readyPipe: line }, undefined);
    }
    if (this.#line.length > MAX_LINE) {
      this.emit('message', { readyPipe: this.#line.slice(0, 200) }, undefined);
      this.#line = '';
    }
  }

  #signalReady(): void {
    this.#readySignalled = true;
    this.#maybeReady();
  }

  #maybeReady(): void {
    if (this.#phase !== 'awaiting-ready' || !this.#readySignalled || this.#pendingListens.size > 0) return;
    this.#enter('ready-sent');
    this.#toMaster({ type: 'ready', listeners: [...this.#options.addresses] });
  }

  #drain(timeoutMs: number): void {
    if (this.#phase === 'draining' || this.#phase === 'exited') return;
    this.#enter('draining');
    this.kill('SIGTERM');
    this.#cancels.push(this.#options.clock.setTimeout(() => this.kill('SIGKILL'), timeoutMs));
  }

  /** Report what could not be translated: an envelope of an unknown type, which the master logs as invalid. */
  #unhandled(value: unknown): void {
    this.#toMaster({ type: 'exec.untranslated', received: value });
  }

  #toMaster(message: { readonly type: string } & Record<string, unknown>): void {
    this.emit('message', { ovs: PROTOCOL_VERSION, ...message }, undefined);
  }

  #disconnect(): void {
    if (this.#phase === 'exited') return;
    this.#enter('exited');
    for (const cancel of this.#cancels.splice(0)) cancel();
    this.#pendingListens.clear();
    // A process the program started may hold the pipe open; it is no concern of ours now.
    this.#options.ready?.destroy();
    this.emit('disconnect');
  }
}
