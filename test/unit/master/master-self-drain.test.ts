/**
 * A live worker that drains on its own (a SIGTERM sent to it directly) is
 * replaced at once, without crash backoff, and held to the drain deadline.
 */
import { describe, expect, it } from 'vitest';
import { nextEvent } from '../../helpers/fakes.js';
import { TIMINGS, harness, startLive } from './master-harness.js';

describe('Master: a worker draining on its own', () => {
  it('starts a replacement at once, counts no failure, and the drained exit is expected', async () => {
    const h = harness({ workers: 2 });
    const [, second] = await startLive(h);
    second!.emitMessage({ ovs: 1, type: 'draining', signal: 'SIGTERM' });
    expect(h.named('drain.started')).toEqual([{ workerId: 2, generation: 1, slot: 1, pid: 1001, reason: 'signal', signal: 'SIGTERM' }]);
    expect(h.spawner.procs).toHaveLength(3); // no delay
    expect(await second!.waitForSent('drain')).toMatchObject({ reason: 'signal', timeoutMs: TIMINGS.drainTimeout });
    const live = nextEvent(h.master, 'worker.live');
    h.spawner.proc(2).ready();
    expect(await live).toEqual({ workerId: 3, generation: 1, slot: 1, pid: 1002 });

    const finished = nextEvent(h.master, 'drain.finished');
    second!.exit(0);
    expect(await finished).toMatchObject({ pid: 1001, code: 0, forced: undefined });
    expect(h.named('worker.exited')).toMatchObject([{ pid: 1001, state: 'draining', expected: true }]);
    expect(h.named('worker.restart-scheduled')).toEqual([]);
    expect(h.spawner.procs).toHaveLength(3);
  });

  it('escalates at the drain deadline like any drain', async () => {
    const h = harness();
    const [first] = await startLive(h);
    first!.emitMessage({ ovs: 1, type: 'draining', signal: 'SIGINT' });
    h.clock.advance(TIMINGS.drainTimeout);
    expect(first!.signals).toEqual(['SIGTERM']);
    h.clock.advance(TIMINGS.killTimeout);
    expect(first!.signals).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('ignores it from a worker that is not live yet (its exit is a failed start)', async () => {
    const h = harness();
    await h.master.start();
    h.spawner.proc(0).emitMessage({ ovs: 1, type: 'draining', signal: 'SIGTERM' });
    expect(h.named('drain.started')).toEqual([]);
    expect(h.spawner.procs).toHaveLength(1);
  });
});
