/**
 * Upgrade progress (src/master/control/progress.ts) from a stand-in master's
 * events: with a rollback window, `watching` counts the window down once a
 * second and stops when the outcome settles it.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MasterStatus, UpgradeProgress } from '../../../../src/ipc/control.js';
import { type ProgressSource, followUpgrade } from '../../../../src/master/control/progress.js';
import type { MasterEvents } from '../../../../src/master/events.js';

function source(): ProgressSource & EventEmitter<MasterEvents> {
  return Object.assign(new EventEmitter<MasterEvents>(), {
    options: { workers: 1 },
    status: () => ({ upgrading: false, starting: [] }) as unknown as MasterStatus,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('upgrade progress', () => {
  it('counts a rollback window down once a second, and stops when the outcome settles it', () => {
    vi.useFakeTimers();
    const master = source();
    const steps: UpgradeProgress[] = [];
    const follower = followUpgrade(master, (step) => steps.push(step), () => Date.now());
    master.emit('upgrade.started', { generation: 2, trigger: 'test' });
    master.emit('upgrade.succeeded', { generation: 2, previous: 1, pids: [10], durationMs: 5 });
    master.emit('upgrade.window', { generation: 2, previous: 1, windowMs: 3_000 });
    vi.advanceTimersByTime(2_000);
    const watching = steps.filter((s) => s.phase === 'watching').map((s) => (s as { secondsLeft: number }).secondsLeft);
    expect(watching).toEqual([3, 2, 1]);
    follower.settle({ ok: false, generation: 2, reason: 'rolled-back', message: 'worker 10 exited', durationMs: 2_000 });
    vi.advanceTimersByTime(5_000);
    expect(steps.filter((s) => s.phase === 'watching')).toHaveLength(3);
    expect(steps.at(-1)).toMatchObject({ phase: 'done' });
  });
});
