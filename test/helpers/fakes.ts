/**
 * Hand-driven fakes for the master's OS seams (STYLE 6): a clock whose time
 * moves only when the test says so, and a spawner whose "processes" are
 * EventEmitters the test speaks for, as the worker would over IPC.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ListenAddress } from '../../src/ipc/address.js';
import type { Clock } from '../../src/clock.js';
import { Outlet, type Outlets } from '../../src/master/output/outlet.js';
import type { SpawnSpec, Spawner, WorkerProcess } from '../../src/master/spawn/spawner.js';

/** Lets queued microtasks and immediates (fake IPC deliveries, async exits) run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The next `name` event of `emitter`; rejects after a real-time guard so a broken test fails, not hangs. */
export function nextEvent<T extends Record<keyof T, unknown[]>, K extends keyof T & string>(
  emitter: EventEmitter<T>,
  name: K,
  guardMs = 2_000,
): Promise<T[K][0]> {
  return new Promise((resolve, reject) => {
    const untyped = emitter as unknown as EventEmitter;
    const timer = setTimeout(() => {
      untyped.off(name, onEvent);
      reject(new Error(`no '${name}' event within ${guardMs} ms`));
    }, guardMs);
    const onEvent = (value: unknown) => {
      clearTimeout(timer);
      resolve(value as T[K][0]);
    };
    untyped.once(name, onEvent);
  });
}

interface Timer {
  readonly due: number;
  readonly order: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  #now = 0;
  #order = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): () => void {
    const timer = { due: this.#now + Math.max(0, ms), order: this.#order++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in due order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = [...this.#timers].sort((a, b) => a.due - b.due || a.order - b.order)[0];
      if (!next || next.due > target) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.due;
      next.fn();
    }
    this.#now = target;
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }
}

/** One entry of the log shared by every process of a spawner, in global order. */
export type LogEntry =
  | { readonly order: number; readonly pid: number; readonly kind: 'sent'; readonly message: Record<string, unknown>; readonly handle: unknown }
  | { readonly order: number; readonly pid: number; readonly kind: 'emitted'; readonly message: unknown }
  | { readonly order: number; readonly pid: number; readonly kind: 'signal'; readonly signal: NodeJS.Signals };

/** The master's stdout and stderr as outlets over PassThroughs that are read into `written`. */
export function fakeOutlets(): { outlets: Outlets; written: { stdout: string[]; stderr: string[] } } {
  const written = { stdout: [] as string[], stderr: [] as string[] };
  const outlet = (into: string[]) => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => into.push(chunk.toString()));
    return new Outlet(stream);
  };
  return { outlets: { stdout: outlet(written.stdout), stderr: outlet(written.stderr) }, written };
}

export class FakeProcess extends EventEmitter implements WorkerProcess {
  readonly pid: number;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly spec: SpawnSpec;
  connected = true;
  /** Messages the master sent to this worker. */
  readonly sent: Array<Record<string, unknown>> = [];
  readonly signals: NodeJS.Signals[] = [];
  /** Signals this fake dies of (asynchronously, like a real process). */
  readonly exitsOn = new Set<NodeJS.Signals>(['SIGKILL']);
  #log: LogEntry[];
  #autoAck = false;
  #answered = new Set<number>();
  #seq = 1000;
  #exited = false;

  constructor(pid: number, spec: SpawnSpec, log: LogEntry[]) {
    super();
    this.pid = pid;
    this.spec = spec;
    this.#log = log;
  }

  get exited(): boolean {
    return this.#exited;
  }

  send(message: unknown, handle?: unknown, _options?: object, callback?: (error: Error | null) => void): boolean {
    const record = message as Record<string, unknown>;
    this.sent.push(record);
    this.#log.push({ order: this.#log.length, pid: this.pid, kind: 'sent', message: record, handle });
    this.emit('fake:sent', record);
    queueMicrotask(() => {
      callback?.(null);
      if (this.#autoAck && record.type === 'activate') this.ackActivate();
    });
    return true;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    this.#log.push({ order: this.#log.length, pid: this.pid, kind: 'signal', signal });
    if (this.exitsOn.has(signal)) setImmediate(() => this.exit(null, signal));
    return !this.#exited;
  }

  /** Acts as the worker: emits a message to the master. */
  emitMessage(message: unknown, handle?: unknown): void {
    this.#log.push({ order: this.#log.length, pid: this.pid, kind: 'emitted', message });
    this.emit('message', message, handle);
  }

  ready(listeners: readonly ListenAddress[] = []): void {
    this.emitMessage({ ovs: 1, type: 'ready', listeners });
  }

  /** Answer every `activate` request from now on (and any already unanswered). */
  autoAck(): void {
    this.#autoAck = true;
    this.ackActivate();
  }

  /** Answer every unanswered `activate` request; returns how many were answered. */
  ackActivate(): number {
    let answered = 0;
    for (const message of this.sent) {
      const seq = message.seq;
      if (message.type !== 'activate' || typeof seq !== 'number' || this.#answered.has(seq)) continue;
      this.#answered.add(seq);
      this.emitMessage({ ovs: 1, type: 'reply', seq, ok: true, result: {} });
      answered++;
    }
    return answered;
  }

  /** Sends a `listen` request as the worker's preload does; returns its seq. */
  requestListen(address: ListenAddress): number {
    const seq = ++this.#seq;
    this.emitMessage({ ovs: 1, type: 'listen', seq, address });
    return seq;
  }

  /** The process ends: stdout and stderr end, the IPC channel disconnects, 'exit' fires. Once only. */
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.#exited) return;
    this.#exited = true;
    this.stdout.end();
    this.stderr.end();
    this.connected = false;
    this.emit('disconnect');
    this.emit('exit', code, signal);
  }

  sentOf(type: string): Array<Record<string, unknown>> {
    return this.sent.filter((m) => m.type === type);
  }

  /** Resolves once a message of `type` has been sent to this worker (at once if it already was). */
  waitForSent(type: string, guardMs = 2_000): Promise<Record<string, unknown>> {
    const already = this.sentOf(type)[0];
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pid ${this.pid}: no '${type}' sent within ${guardMs} ms`)), guardMs);
      const onSent = (message: Record<string, unknown>) => {
        if (message.type !== type) return;
        clearTimeout(timer);
        this.off('fake:sent', onSent);
        resolve(message);
      };
      this.on('fake:sent', onSent);
    });
  }
}

export class FakeSpawner implements Spawner {
  readonly procs: FakeProcess[] = [];
  /** Every send, signal and emitted message of every process, in order. */
  readonly log: LogEntry[] = [];
  #nextPid = 1000;
  #events = new EventEmitter();

  constructor(private readonly options: { autoAck?: boolean } = {}) {}

  spawn(spec: SpawnSpec): FakeProcess {
    const proc = new FakeProcess(this.#nextPid++, spec, this.log);
    if (this.options.autoAck) proc.autoAck();
    this.procs.push(proc);
    this.#events.emit('spawn', proc);
    return proc;
  }

  /** Resolves with the `index`-th process spawned (0-based), waiting for it if needed. */
  waitForSpawn(index: number, guardMs = 2_000): Promise<FakeProcess> {
    const existing = this.procs[index];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#events.off('spawn', onSpawn);
        reject(new Error(`process #${index} not spawned within ${guardMs} ms (${this.procs.length} so far)`));
      }, guardMs);
      const onSpawn = () => {
        const proc = this.procs[index];
        if (!proc) return;
        clearTimeout(timer);
        this.#events.off('spawn', onSpawn);
        resolve(proc);
      };
      this.#events.on('spawn', onSpawn);
    });
  }

  proc(index: number): FakeProcess {
    const proc = this.procs[index];
    if (!proc) throw new Error(`no process #${index} (${this.procs.length} spawned)`);
    return proc;
  }
}
