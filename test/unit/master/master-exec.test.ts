/** The master's side of --exec, with the fake spawner: what it asks the spawner for, and what it refuses. */
import { describe, expect, it, vi } from 'vitest';
import { harness } from './master-harness.js';

vi.setConfig({ testTimeout: 5_000 });

describe('Master with --exec', () => {
  it('spawns the program found in PATH with every configured socket and the ready delay', async () => {
    const h = harness({ script: 'sh', exec: true, readyDelay: 250, listen: ['127.0.0.1:0', '127.0.0.1:0'] });
    await h.master.start();
    const spec = h.spawner.proc(0).spec;
    expect(spec.script).toMatch(/\/sh$/);
    expect(spec.exec?.readyDelayMs).toBe(250);
    expect(spec.exec?.listeners.map((l) => l.address)).toEqual(h.master.held.all.map((l) => l.address));
    expect(spec.exec?.listeners).toHaveLength(2);
    await h.master.kill();
    expect(h.master.held.all).toEqual([]);
  });

  it('spawns Node workers without an exec part', async () => {
    const h = harness();
    await h.master.start();
    expect(h.spawner.proc(0).spec.exec).toBeUndefined();
    await h.master.kill();
  });

  it('refuses to start without a socket to hand over, or without the program', async () => {
    const none = harness({ script: 'sh', exec: true });
    await expect(none.master.start()).rejects.toThrow(/^--exec needs a socket to hand over/);
    const missing = harness({ script: 'no-such-program-overseer', exec: true, listen: ['127.0.0.1:0'] });
    await expect(missing.master.start()).rejects.toThrow(/^--exec: program not found: no-such-program-overseer/);
    expect([...none.spawner.procs, ...missing.spawner.procs]).toEqual([]);
    expect(missing.master.held.all).toEqual([]);
  });
});
