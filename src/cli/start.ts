/**
 * `overseer start`: options → master → signals (and the watcher) → wait for
 * the stop. Resolves with the process exit code; throws on bad input or a
 * failed start, after the master has released everything it took.
 */
import { once } from 'node:events';
import { createLogger } from '../logger.js';
import { systemClock } from '../master/clock.js';
import { logMasterEvents } from '../master/log-events.js';
import { Master } from '../master/master.js';
import { type RawStartOptions, parseStartOptions } from '../master/options.js';
import { installSignals } from '../master/signals.js';
import { forkSpawner } from '../master/spawner.js';
import { watchForChanges } from '../master/watch.js';

export async function runStart(raw: RawStartOptions): Promise<number> {
  const options = parseStartOptions(raw);
  const logger = createLogger({ level: options.logLevel, format: options.logFormat, name: options.name });
  const master = new Master(options, { spawner: forkSpawner, clock: systemClock, stderr: process.stderr, pid: process.pid });
  logMasterEvents(master, logger);
  let forced = false;
  master.on('master.stopping', ({ graceful }) => {
    if (!graceful) forced = true;
  });
  const stopped = once(master, 'master.stopped');

  await master.start();
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

  await stopped;
  clearInterval(keepAlive);
  await stopWatching?.();
  removeSignals();
  return forced ? 1 : 0;
}
