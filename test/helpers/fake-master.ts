/**
 * The master's end of one real worker, spoken by the test: the app is forked
 * with the real preload, and its `listen` requests are answered with sockets
 * the test holds listening (bound as the master binds them: never accepting
 * in the test process). For worker-side protocol tests (standby, resume,
 * heartbeat) without a master's state machine.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { systemClock } from '../../src/clock.js';
import { ENV } from '../../src/ipc/env.js';
import { Channel } from '../../src/ipc/channel.js';
import type { Reply } from '../../src/ipc/envelope.js';
import { type HeartbeatMessage, type ToMaster, parseToMaster } from '../../src/ipc/to-master.js';
import { IS_WORKER_RESULT_OF, type ToWorker, type WorkerResultOf } from '../../src/ipc/to-worker.js';
import type { ListenAddress } from '../../src/ipc/address.js';
import { type Bound, bindAddress } from '../../src/master/sockets/bind.js';
import { ROOT } from './master.js';
import { onCleanup, track } from './processes.js';

/** The built preload, as the master injects it (the tests run the compiled worker code). */
const PRELOAD_URL = `${ROOT}dist/worker/preload.js`;

export interface FakeMasterRun {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly channel: Channel<ToWorker, Exclude<ToMaster, Reply>, WorkerResultOf>;
  readonly heartbeats: Array<{ readonly at: number; readonly message: HeartbeatMessage }>;
  readonly listens: ListenAddress[];
  /** Lines the app wrote, stdout and stderr together. */
  readonly lines: string[];
  /** The worker said ready; rejects if it exits first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a line matching `pattern` was written (at once if it was). */
  line(pattern: RegExp, guardMs?: number): Promise<string>;
}

export async function forkWithFakeMaster(script: string, env: Record<string, string> = {}): Promise<FakeMasterRun> {
  const bound: Bound = await bindAddress({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  onCleanup(() => bound.handle.close());
  const port = (bound.address as { port: number }).port;
  const proc = fork(script, [], {
    execArgv: ['--import', PRELOAD_URL],
    env: { ...process.env, PORT: String(port), [ENV.workerId]: '1', [ENV.generation]: '1', [ENV.drainTimeout]: '10000', [ENV.closeSpread]: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  track(proc.pid);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  for (const stream of [proc.stdout!, proc.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
      for (const wake of waiters.splice(0)) wake();
    });
  }
  const heartbeats: FakeMasterRun['heartbeats'] = [];
  const listens: ListenAddress[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    proc.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before ready:\n${lines.join('\n')}`)));
  });
  ready.catch(() => {});
  const channel: Channel<ToWorker, Exclude<ToMaster, Reply>, WorkerResultOf> = new Channel(proc, {
    clock: systemClock,
    parse: parseToMaster,
    results: IS_WORKER_RESULT_OF,
    handlers: {
      listen: (m) => {
        listens.push(m.address);
        void channel.reply(m.seq, { result: bound.address }, bound.handle);
      },
      ready: () => onReady(),
      draining: () => {},
      'own-listener': () => {},
      heartbeat: (m) => heartbeats.push({ at: performance.now(), message: m }),
    },
    onInvalid: (value) => lines.push(`(invalid message ${JSON.stringify(value)})`),
    onForeign: () => {},
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })));
  const line = (pattern: RegExp, guardMs = 5_000) => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${String(pattern)} within ${guardMs} ms; got:\n${lines.join('\n')}`)), guardMs);
    const check = () => {
      const found = lines.find((l) => pattern.test(l));
      if (found === undefined) return void waiters.push(check);
      clearTimeout(timer);
      resolve(found);
    };
    check();
  });
  return { proc, pid: proc.pid!, port, channel, heartbeats, listens, lines, ready, exited, line };
}
