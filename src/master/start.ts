/**
 * `overseer start`: validated options → master → signals (and the watcher) →
 * wait for the stop. Resolves with the process exit code; throws on a failed
 * start, after the master has released everything it took. The options are
 * validated by the caller (src/cli/start.ts, through options/index.ts) before this module, and the master's
 * logging stack with it, is loaded.
 *
 * A successor master (`overseer upgrade --self`, src/master/succession/)
 * starts the same way with three things deferred to its take-over: the
 * control socket (taken from the predecessor by rename), the PID file and
 * systemd's notifications (READY=1 with MAINPID=). Until then its first
 * generation is held back and its predecessor serves.
 */
import { once } from 'node:events';
import { effectiveUid } from '../ipc/trusted-dir.js';
import { createLogger } from '../logger.js';
import { chooseControlPath } from './control/dir.js';
import { openControlServer } from './control/server.js';
import { systemClock } from '../clock.js';
import { logMasterEvents } from './log-events.js';
import { Master } from './master.js';
import { Outlet } from './output/outlet.js';
import type { MasterOptions } from './options/options.js';
import { attachSdNotify } from './systemd/sd-notify.js';
import { installSignals } from './signals.js';
import { takeInheritedSockets } from './systemd/socket-activation.js';
import { osSpawner } from './spawn/os-spawner.js';
import { watchForChanges } from './os/watch.js';
import { writePidFile } from './os/pid-file.js';
import type { MasterMetrics } from './metrics/index.js';
import type { MetricsServer } from './metrics/server.js';
import type { TcpAddress } from './options/metrics-address.js';
import { HoldBack } from './succession/hold-back.js';
import { replaceSelf } from './succession/replace-self.js';
import { spawnSuccessor, untrustedNode } from './succession/spawn-successor.js';
import { type PredecessorChannel, takeSuccession } from './succession/successor.js';
import { takeOver } from './succession/take-over.js';
import type { ControlServer } from './control/server.js';
import type { Logger } from 'pino';

/** How long the last lines may take to reach a slow reader before the process exits. */
const OUTPUT_FLUSH_MS = 2_000;

/** With `--metrics`: the series subscribed to `master` (src/master/metrics/, loaded only then). */
async function recordMetricsOf(master: Master): Promise<MasterMetrics | undefined> {
  if (!master.options.metrics) return undefined;
  const { recordMasterMetrics } = await import('./metrics/index.js');
  return recordMasterMetrics(master);
}

/** The `--metrics` endpoint, served and announced; `fd`: the socket a predecessor passed. */
async function serveMetrics(metrics: MasterMetrics, at: TcpAddress | { readonly fd: number }, logger: Logger): Promise<MetricsServer> {
  const server = await metrics.serve(at);
  const { host, port } = server.address;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
  logger.info({ event: 'metrics.listening', host, port, url }, `serving metrics at ${url}`);
  return server;
}

/** `options` were validated, and checked against the disk and node (preflight.ts), by the caller. */
export async function runStart(options: MasterOptions): Promise<number> {
  // Everything the master and its workers print goes through these two, a
  // whole line at a time (src/master/output/outlet.ts).
  const output = { stdout: new Outlet(process.stdout), stderr: new Outlet(process.stderr) };
  const flushOutput = () => Promise.all([output.stdout.flush(OUTPUT_FLUSH_MS), output.stderr.flush(OUTPUT_FLUSH_MS)]);
  const logger = createLogger({ level: options.logLevel, format: options.logFormat, name: options.name, destination: { write: (line) => output.stdout.writeOwn(line) } });
  // A successor says hello to its predecessor first (succession/successor.ts).
  // It, systemd's LISTEN_* and NOTIFY_SOCKET are taken out of the environment
  // here, before any worker is forked with it.
  const successor = takeSuccession(process.env, process as PredecessorChannel, process.pid);
  const inherited = [...takeInheritedSockets(process.env, process.pid), ...(successor?.sockets ?? [])];
  const notifySocket = process.env.NOTIFY_SOCKET ?? successor?.start.notifySocket;
  // Where the control socket goes is decided now (nothing is created yet),
  // so the master can record it beside its PID file.
  const { where, skipped } = chooseControlPath(options.control, options.name, process.env, effectiveUid());
  for (const { dir, message } of skipped) {
    logger.warn({ event: 'control.dir-skipped', dir, message }, `not using ${dir} for the control socket: ${message}`);
  }
  // A successor's first workers wait, ready, until it takes over; `held` is said once all are.
  const holdBack = successor && new HoldBack(options.workers, () => successor.send({ type: 'held', generation: master.currentGeneration ?? 0 }));
  const master = new Master(options, {
    spawner: osSpawner(systemClock), clock: systemClock, output, pid: process.pid, inherited, controlPath: where.path,
    ...(successor && holdBack ? { successor: { ...successor.start, holdBack } } : {}),
  });
  logMasterEvents(master, logger);
  let notifier = successor ? undefined : attachSdNotify(master, { env: process.env, log: logger });
  let forced = false;
  master.on('master.stopping', ({ graceful }) => {
    if (!graceful) forced = true;
  });
  const stopped = once(master, 'master.stopped');

  const controlLog = (level: 'debug' | 'info' | 'warn', fields: { event: string } & Record<string, unknown>, message: string) => logger[level](fields, message);
  // The control socket comes first: a second master with the same name fails
  // here, "already running", before it has bound or spawned anything.
  let control: ControlServer | undefined = successor ? undefined : await openControlServer(where, master, controlLog);
  // Subscribed before the start, so the first generation's workers count.
  const metrics = await recordMetricsOf(master);
  let metricsServer: MetricsServer | undefined;
  // A successor may be told to stop (SIGTERM) by its predecessor while it
  // waits to take over: its signals are answered from the start.
  let removeSignals = successor ? installSignals(master) : undefined;
  try {
    if (metrics && options.metrics && !successor) metricsServer = await serveMetrics(metrics, options.metrics, logger);
    await master.start();
    if (successor && holdBack) {
      // Everything a master holds by name is taken from the predecessor now, in this order (succession/protocol.ts).
      const tookOver = await takeOver(successor, master, holdBack, {
        open: () => openControlServer(where, master, controlLog, { replace: true }),
        serveMetrics: async (carried) => {
          if (!metrics || !options.metrics) return;
          metrics.carry(carried);
          const fd = successor.start.metricsFd;
          metricsServer = await serveMetrics(metrics, fd === undefined ? options.metrics : { fd }, logger);
        },
        notify: () => (notifier = attachSdNotify(master, { env: { NOTIFY_SOCKET: notifySocket }, log: logger, mainPid: process.pid })),
      });
      control = tookOver;
    }
  } catch (error) {
    if (successor && master.state !== 'created') {
      await master.stop(`cannot take over: ${(error as Error).message}`);
    }
    await metricsServer?.close();
    await control?.close();
    await flushOutput();
    throw error;
  }
  if (!control) throw new Error('unreachable: no control socket after the start');
  const openControl = control;
  // `overseer upgrade --self`: this master can be replaced by a successor (succession/replace-self.ts).
  master.enableSelfUpgrade((request, signal) => replaceSelf(master, request, {
    entry: process.argv[1] ?? '',
    args: process.argv.slice(2),
    execArgv: process.execArgv,
    defaultNode: process.execPath,
    cwd: process.cwd(),
    env: process.env,
    notifySocket,
    metrics: metrics && metricsServer && {
      fd: metricsServer.fd,
      snapshot: () => metrics.snapshot(),
      close: async () => {
        const server = metricsServer;
        metricsServer = undefined;
        await server?.close();
      },
    },
    readyTimeoutMs: options.readyTimeoutMs,
    killTimeoutMs: options.drainTimeoutMs + options.killTimeoutMs,
    clock: systemClock,
    spawn: spawnSuccessor,
    untrustedNode: (node) => untrustedNode(node, effectiveUid()),
    reassert: async () => {
      if (options.pidFile) writePidFile(options.pidFile, process.pid, where.path);
      await openControl.reclaim();
      if (metrics && options.metrics && !metricsServer) metricsServer = await serveMetrics(metrics, options.metrics, logger);
    },
  }, signal));
  // The master's own handles (bound, not listening, sockets; unref'd timers)
  // do not keep the event loop alive, and while no worker is alive nothing
  // else does: this process lives until the master has stopped.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  removeSignals ??= installSignals(master);
  const stopWatching = options.watch.length === 0
    ? undefined
    : watchForChanges(options.watch, {
        debounceMs: options.watchDebounceMs,
        clock: systemClock,
        onReady: () => logger.info({ event: 'watch.ready', paths: options.watch }, `watching ${options.watch.join(', ')}`),
        onChange: (path) => void master.upgrade(`change: ${path}`),
      });
  // A replaced master watches no more: its successor does.
  master.once('succession.handed-over', () => void stopWatching?.());

  const [{ durationMs }] = await stopped;
  await notifier?.idle(); // STOPPING=1 delivered before the process exits
  // The control socket's path is the successor's now: leave it.
  if (master.replaced) openControl.abandon();
  else await openControl.close(durationMs);
  await metricsServer?.close();
  clearInterval(keepAlive);
  await stopWatching?.();
  removeSignals();
  await flushOutput();
  return forced ? 1 : 0;
}
