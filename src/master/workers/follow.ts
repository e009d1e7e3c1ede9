/**
 * Following a worker: its events become master events (with its facts), and
 * the two decisions its end can call for are taken here, for a slot of a
 * generation in service:
 * - a live worker that exits on its own is a crash: the slot is refilled
 *   with backoff (generations/restart.ts);
 * - a live worker that starts draining on its own (a SIGTERM sent to it
 *   directly) is not a crash: the master holds it to the usual drain
 *   deadline and the slot gets a new worker at once, without backoff.
 */
import type { MasterContext } from '../context.js';
import type { Generation, Slot } from '../generations/generation.js';
import { fillSlot, scheduleRestart } from '../generations/restart.js';
import type { WorkerHandle } from './worker-handle.js';

export interface FollowDeps {
  readonly ctx: MasterContext;
  /** Keys of the listeners already announced as `listener.bound` (each is announced once per master). */
  readonly announced: Set<string>;
  /** The worker's exit was reported. */
  readonly gone: (worker: WorkerHandle) => void;
  /** Self-healing watches it while it is live (health/healer.ts). */
  readonly watch?: (worker: WorkerHandle, generation: Generation, slot: Slot) => void;
}

export function followWorker(worker: WorkerHandle, generation: Generation, slot: Slot, { ctx, announced, gone, watch }: FollowDeps): void {
  const facts = worker.facts;
  watch?.(worker, generation, slot);
  const inService = () => slot.worker === worker && !generation.retired && ctx.running();
  worker.on('ready', () => {
    ctx.emit('worker.ready', { ...facts, startupMs: Math.round((worker.readyAt ?? 0) - worker.spawnedAt) });
  });
  worker.on('listen', (held) => {
    if (held.configured || announced.has(held.key)) return;
    announced.add(held.key);
    ctx.emit('listener.bound', { ...facts, address: held.address });
  });
  worker.on('own-listener', ({ address, via }) => ctx.emit('listener.own', { ...facts, address, via }));
  worker.on('message', (kind, value) => ctx.emit('worker.message', { ...facts, kind, value }));
  worker.on('self-drain', (signal) => {
    ctx.emit('drain.started', { ...facts, reason: 'signal', signal });
    worker.drain('signal', ctx.options.drainTimeoutMs, ctx.options.killTimeoutMs);
    if (inService()) void fillSlot(ctx, generation, slot);
  });
  worker.on('handle-refused', (handleType) => ctx.emit('worker.handle-refused', { ...facts, handleType }));
  worker.on('exit', (info) => {
    gone(worker);
    const now = ctx.clock.now();
    const since = worker.liveAt ?? worker.spawnedAt;
    // A worker no longer in its slot was replaced (hung, recycled): its end was decided.
    const expected = info.state !== 'live' || generation.retired || !ctx.running() || slot.worker !== worker;
    ctx.emit('worker.exited', {
      ...facts, code: info.code, signal: info.signal, state: info.state, expected, uptimeMs: Math.round(now - since),
    });
    if (info.state === 'draining') {
      ctx.emit('drain.finished', {
        ...facts, durationMs: Math.round(now - (worker.drainStartedAt ?? since)),
        forced: info.forced, code: info.code, signal: info.signal,
      });
    }
    if (!expected && slot.worker === worker) scheduleRestart(ctx, generation, slot, now - since);
  });
}
