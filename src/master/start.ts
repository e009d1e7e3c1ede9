/**
 * `overseer start`: validated options → master → signals (and the watcher) →
 * wait for the stop. Resolves with the process exit code; throws on a failed
 * start, after the master has released everything it took. The options are
 * validated by the caller (src/cli/start.ts, through options/index.ts) before this module, and the master's
 * logging stack with it, is loaded.
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

/** How long the last lines may take to reach a slow reader before the process exits. */
const OUTPUT_FLUSH_MS = 2_000;

/** With `--metrics`: the series subscribed to `master` and served (src/master/metrics/, loaded only then). */
async function serveMetricsOf(master: Master) {
  if (!master.options.metrics) return undefined;
  const { startMetrics } = await import('./metrics/index.js');
  return startMetrics(master, master.options.metrics);
}

/** `options` were validated, and checked against the disk and node (preflight.ts), by the caller. */
export async function runStart(options: MasterOptions): Promise<number> {
  // Everything the master and its workers print goes through these two, a
  // whole line at a time (src/master/output/outlet.ts).
  const output = { stdout: new Outlet(process.stdout), stderr: new Outlet(process.stderr) };
  const flushOutput = () => Promise.all([output.stdout.flush(OUTPUT_FLUSH_MS), output.stderr.flush(OUTPUT_FLUSH_MS)]);
  const logger = createLogger({ level: options.logLevel, format: options.logFormat, name: options.name, destination: { write: (line) => output.stdout.writeOwn(line) } });
  // systemd's LISTEN_* and NOTIFY_SOCKET are taken out of the environment
  // here, before any worker is forked with it.
  const inherited = takeInheritedSockets(process.env, process.pid);
  // Where the control socket goes is decided now (nothing is created yet),
  // so the master can record it beside its PID file.
  const { where, skipped } = chooseControlPath(options.control, options.name, process.env, effectiveUid());
  for (const { dir, message } of skipped) {
    logger.warn({ event: 'control.dir-skipped', dir, message }, `not using ${dir} for the control socket: ${message}`);
  }
  const master = new Master(options, {
    spawner: osSpawner(systemClock), clock: systemClock, output, pid: process.pid, inherited, controlPath: where.path,
  });
  logMasterEvents(master, logger);
  const notifier = attachSdNotify(master, { env: process.env, log: logger });
  let forced = false;
  master.on('master.stopping', ({ graceful }) => {
    if (!graceful) forced = true;
  });
  const stopped = once(master, 'master.stopped');

  // The control socket comes first: a second master with the same name fails
  // here, "already running", before it has bound or spawned anything.
  const control = await openControlServer(where, master, (level, fields, message) => logger[level](fields, message));
  let metrics: Awaited<ReturnType<typeof serveMetricsOf>> | undefined;
  try {
    // Subscribed before the start, so the first generation's workers count.
    metrics = await serveMetricsOf(master);
    if (metrics) {
      const { host, port } = metrics.address;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
      logger.info({ event: 'metrics.listening', host, port, url }, `serving metrics at ${url}`);
    }
    await master.start();
  } catch (error) {
    await metrics?.close();
    await control.close();
    await flushOutput();
    throw error;
  }
  // The master's own handles (bound, not listening, sockets; unref'd timers)
  // do not keep the event loop alive, and while no worker is alive nothing
  // else does: this process lives until the master has stopped.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const removeSignals = installSignals(master);
  const stopWatching = options.watch.length === 0
    ? undefined
    : watchForChanges(options.watch, {
        debounceMs: options.watchDebounceMs,
        clock: systemClock,
        onReady: () => logger.info({ event: 'watch.ready', paths: options.watch }, `watching ${options.watch.join(', ')}`),
        onChange: (path) => void master.upgrade(`change: ${path}`),
      });

  const [{ durationMs }] = await stopped;
  await notifier.idle(); // STOPPING=1 delivered before the process exits
  await control.close(durationMs);
  await metrics?.close();
  clearInterval(keepAlive);
  await stopWatching?.();
  removeSignals();
  await flushOutput();
  return forced ? 1 : 0;
}
