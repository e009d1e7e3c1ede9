/**
 * Loaded with `node --import` into every worker before the app.
 *
 * It does nothing unless this process was forked by an overseer master (the
 * env contract in src/ipc/env.ts and an IPC channel). Then it:
 * 1. routes `listen()` on fixed TCP ports and unix paths to the master,
 *    leaving port 0, handles and fds to Node (listen-args.ts), and tells
 *    the master where those listen;
 * 2. turns the PM2 convention `process.send('ready')` into our typed `ready`,
 *    and refuses to send the master a handle (send.ts);
 * 3. publishes the runtime for `overseer/worker` (api.ts);
 * 4. keeps the master's signals from killing the worker (signals.ts);
 * 5. sends the heartbeat (heartbeat.ts), with the hang watchdog when asked
 *    (hang-stack.ts);
 * 6. removes its env and `--import` so processes the app spawns run plain.
 */
import { ENV } from '../ipc/env.js';
import { startHangStack } from './hang-stack.js';
import { startHeartbeat } from './heartbeat.js';
import { RUNTIME_KEY } from './runtime-key.js';
import { planListen } from './listen-args.js';
import { WorkerRuntime } from './runtime.js';
import { wrapSend } from './send.js';
import { installWorkerSignals } from './signals.js';

const { Server: NetServer } = process.getBuiltinModule('node:net');
type NetServer = InstanceType<typeof NetServer>;

function readEnv(): WorkerRuntime['info'] | undefined {
  const workerId = Number(process.env[ENV.workerId]);
  if (!process.send || !Number.isInteger(workerId)) return undefined;
  const info = {
    workerId,
    generation: Number(process.env[ENV.generation]) || 0,
    waitReady: process.env[ENV.waitReady] === '1',
    drainTimeoutMs: Number(process.env[ENV.drainTimeout]) || 30_000,
    closeSpreadMs: Number(process.env[ENV.closeSpread] ?? 2_000) || 0,
    websocketClose: process.env[ENV.websocketClose] !== '0',
    heartbeatMs: Number(process.env[ENV.heartbeat]) || 0,
    hangStackMs: Number(process.env[ENV.hangStack]) || 0,
  };
  for (const name of Object.values(ENV)) delete process.env[name];
  const self = process.execArgv.findIndex((arg, i) => arg === '--import' && /overseer|preload/.test(process.execArgv[i + 1] ?? ''));
  if (self >= 0) process.execArgv.splice(self, 2);
  return info;
}

function install(info: WorkerRuntime['info']): void {
  // Only the preload ends the worker process: after a finished drain, or when
  // the master is gone before this worker ever accepted a connection.
  const runtime = new WorkerRuntime(process, info, {
    exit: (code) => process.exit(code),
    // Explicit ref/unref: Node then stops counting listeners on the channel.
    keepAlive: (on) => (on ? process.channel?.ref() : process.channel?.unref()),
  });
  (globalThis as Record<symbol, unknown>)[RUNTIME_KEY] = runtime;

  const originalListen = NetServer.prototype.listen;
  const pending = new WeakSet<NetServer>();
  NetServer.prototype.listen = function listen(this: NetServer, ...args: unknown[]) {
    const plan = planListen(args);
    if (plan.kind === 'passthrough' && !this.listening) runtime.ownListen(this, plan.via);
    if (plan.kind === 'passthrough' || this.listening || runtime.draining) {
      return originalListen.apply(this, args as Parameters<typeof originalListen>);
    }
    if (pending.has(this)) {
      // What Node throws for a second listen() on a listening server.
      throw Object.assign(new Error('Listen method has been called more than once without closing.'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    }
    pending.add(this);
    runtime.listen(this, plan, () => pending.delete(this));
    return this;
  } as typeof originalListen;

  // PM2's 'ready' becomes ours; a handle for the master is refused (send.ts).
  process.send = wrapSend(process.send!.bind(process) as Parameters<typeof wrapSend>[0], () => runtime.appReady()) as typeof process.send;

  installWorkerSignals(runtime);

  const watchdog = info.heartbeatMs > 0 && info.hangStackMs > 0 ? startHangStack(info.hangStackMs, info.heartbeatMs) : undefined;
  startHeartbeat(info.heartbeatMs, () => {
    void runtime.heartbeat();
    watchdog?.();
  });

  // Our stderr is a pipe to the master; if the master dies while we drain,
  // a write must not crash the worker with EPIPE.
  process.stderr.on('error', () => {});
  process.stdout.on('error', () => {});
}

const info = readEnv();
if (info) install(info);
