/**
 * Retiring a generation: an upgrade replaced it, or the master stops. It is
 * marked first, so the exits that follow are not taken for crashes and no
 * restart is scheduled; only then are its workers told to go.
 */
import type { MasterContext } from '../context.js';
import type { Generation } from './generation.js';

/** Take a generation out of service: no more restarts; live workers drain, others are killed. */
export function retire(ctx: MasterContext, generation: Generation, reason: 'upgrade' | 'stop'): void {
  generation.retired = true;
  for (const slot of generation.slots) {
    slot.cancelRestart?.();
    slot.cancelRestart = undefined;
    const worker = slot.worker;
    if (!worker || worker.state === 'exited' || worker.state === 'draining') continue;
    if (worker.state === 'live' || worker.state === 'standby') ctx.emit('drain.started', { ...worker.facts, reason });
    worker.dismiss(reason, ctx.options.drainTimeoutMs, ctx.options.killTimeoutMs);
  }
}
