/**
 * What `Master.start()` does before its first generation, in this order:
 * the preflight checks (a script or `--node-arg` no worker could start
 * with), binding every `--listen` address (or taking systemd's sockets),
 * the `--exec` check that some socket can be handed over, and the PID file.
 *
 * Contract: it throws (a ConfigError, or the bind's or the PID file's error)
 * leaving nothing bound or written; it resolves false, with nothing bound,
 * when `cancelled()` says the master was stopped while it bound; true when
 * the master may start its first generation.
 */
import { ConfigError } from '../errors.js';
import type { MasterOptions } from './options/options.js';
import { preflight } from './options/preflight.js';
import { writePidFile } from './os/pid-file.js';
import type { Listeners } from './sockets/listeners.js';
import type { InheritedSocket } from './systemd/socket-activation.js';

export interface PrepareStartDeps {
  readonly options: MasterOptions;
  readonly held: Listeners;
  readonly inherited?: readonly InheritedSocket[] | undefined;
  /** Written to the PID file. */
  readonly pid: number;
  /** Recorded beside the PID file (src/ipc/control-record.ts). */
  readonly controlPath?: string | undefined;
  /** A successor master writes the PID file when it takes over, not at start (src/master/succession/). */
  readonly deferPidFile?: boolean;
}

export async function prepareStart(deps: PrepareStartDeps, cancelled: () => boolean): Promise<boolean> {
  const { options, held } = deps;
  await preflight(options); // a script or --node-arg no worker could start with: ConfigError
  await held.bindConfigured(options.listen, deps.inherited);
  if (cancelled()) {
    // stop() was called while we were binding: it has finished; undo the bind.
    held.closeAll();
    return false;
  }
  if (options.exec && !held.all.some((l) => l.configured)) {
    // An --exec program gets its sockets at start; it cannot ask for one later.
    held.closeAll();
    throw new ConfigError('--exec needs a socket to hand over: give --listen (or start under systemd socket activation)');
  }
  try {
    if (options.pidFile && !deps.deferPidFile) writePidFile(options.pidFile, deps.pid, deps.controlPath);
  } catch (error) {
    held.closeAll();
    throw error;
  }
  return true;
}
