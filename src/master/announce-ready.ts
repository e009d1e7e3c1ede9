/**
 * `master.ready`, said once in the master's life: when a generation in
 * service (the first, or the first upgrade to succeed if the first never got
 * ready) has every slot live. Just before it, each `--listen` address none
 * of that generation's workers accepts on is reported as `listener.unused`.
 */
import type { MasterContext } from './context.js';
import { type Generation, isAllLive } from './generations/generation.js';
import type { Listeners } from './sockets/listeners.js';

/** Returns the function to call whenever a slot of a generation in service becomes live. */
export function announceReadyOnce(listeners: Pick<Listeners, 'all'>, emit: MasterContext['emit']): (generation: Generation) => void {
  let announced = false;
  return (generation) => {
    if (announced || !isAllLive(generation)) return;
    announced = true;
    for (const held of listeners.all) {
      if (held.configured && !generation.slots.some((s) => s.worker?.listenerKeys.has(held.key))) {
        emit('listener.unused', { address: held.address });
      }
    }
    emit('master.ready', { generation: generation.number, pids: generation.slots.map((s) => s.worker?.pid) });
  };
}
