/**
 * Signals that reach a worker although they were meant for the master.
 *
 * `systemctl kill` (whose default is `--kill-whom=all`), `KillMode=control-group`
 * and scripts that signal a process group send the master's signals to every
 * worker too. Node's default action for SIGHUP, SIGUSR2, SIGTERM and SIGINT
 * is to die, mid-request. So, in a worker:
 * - SIGHUP and SIGUSR2 are ignored (they mean "upgrade" to the master);
 * - SIGTERM and SIGINT start this worker's own graceful drain
 *   (`runtime.drainOnSignal`; the master replaces the worker).
 * An app that listens for one of these signals itself keeps it: Node's default
 * action applies only when nothing listens, and we listen, so at signal time
 * we step aside whenever another listener exists (`listenerCount > 1`).
 *
 * Once a drain has started (whatever started it), SIGTERM and SIGINT get
 * Node's default action back after a short grace: that is how the master's
 * drain deadline (SIGTERM, docs/upgrade.md) still ends a worker whose event
 * loop is stuck. The grace covers one stop request arriving twice: under
 * `KillMode=control-group`, systemd signals the master and every worker at
 * once, and the master's `drain` may reach a worker before its own SIGTERM.
 */
import type { WorkerRuntime } from './runtime.js';

const IGNORED = ['SIGHUP', 'SIGUSR2'] as const;
const DRAIN = ['SIGTERM', 'SIGINT'] as const;
/** How long into a drain SIGTERM/SIGINT is still taken as the same request (capped at half the drain deadline). */
const DUPLICATE_GRACE_MS = 1_000;

export function installWorkerSignals(runtime: WorkerRuntime): void {
  const ignore = () => {};
  for (const signal of IGNORED) process.on(signal, ignore);

  const drainers = DRAIN.map((signal) => {
    const drain = () => {
      if (process.listenerCount(signal) > 1) return; // the app handles it
      runtime.drainOnSignal(signal);
    };
    process.on(signal, drain);
    return [signal, drain] as const;
  });

  runtime.onShutdown(() => {
    const graceMs = Math.min(DUPLICATE_GRACE_MS, runtime.info.drainTimeoutMs / 2);
    setTimeout(() => {
      for (const [signal, drain] of drainers) process.off(signal, drain);
    }, graceMs).unref();
  });
}
