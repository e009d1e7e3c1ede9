/**
 * A successor master's take-over (protocol.ts), run by start.ts once its
 * first generation is held ready. The steps that need the master's own
 * servers (control socket, metrics, sd_notify) are given by the caller; the
 * order is decided here.
 */
import { once } from 'node:events';
import type { ControlServer } from '../control/server.js';
import type { Master } from '../master.js';
import { writePidFile } from '../os/pid-file.js';
import type { HoldBack } from './hold-back.js';
import type { CarriedState } from './protocol.js';
import type { Successor } from './successor.js';

export interface TakeOverSteps {
  /** The control socket, by rename over the predecessor's. */
  open(): Promise<ControlServer>;
  /** The `--metrics` endpoint, on the predecessor's socket, with its counts added. */
  serveMetrics(carried: CarriedState['metrics']): Promise<void>;
  /** Attach sd_notify: READY=1 goes with MAINPID= this process. */
  notify(): { idle(): Promise<void> };
}

/**
 * A successor's take-over, once its first generation is held ready: wait for
 * the predecessor's `take-over`, take the control socket and the PID file,
 * serve metrics, let the workers accept, and once they all do, tell systemd
 * and then the predecessor (`took-over`), which drains its workers only
 * then. Throws if the predecessor goes away or the master stops first.
 */
export async function takeOver(successor: Successor, master: Master, holdBack: HoldBack, steps: TakeOverSteps): Promise<ControlServer> {
  const stopping = new Promise<never>((_, reject) => {
    master.once('master.stopping', ({ reason }) => reject(new Error(`the master is stopping (${reason})`)));
  });
  stopping.catch(() => {});
  const state = await Promise.race([successor.takeOver, stopping]);
  const control = await steps.open();
  try {
    const { pidFile } = master.options;
    if (pidFile) writePidFile(pidFile, master.pid, control.path, successor.start.predecessorPid);
    await steps.serveMetrics(state.metrics);
    const notifier = steps.notify();
    const ready = once(master, 'master.ready');
    master.tookOver();
    holdBack.open();
    const [{ generation }] = await Promise.race([ready, stopping]);
    await notifier.idle(); // MAINPID= read by the manager before the predecessor may exit
    successor.send({ type: 'took-over', generation, controlPath: control.path });
    master.emit('succession.took-over', { predecessorPid: successor.start.predecessorPid, generation });
    return control;
  } catch (error) {
    await control.close();
    throw error;
  }
}
