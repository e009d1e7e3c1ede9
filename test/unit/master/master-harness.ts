/**
 * A Master wired to the fakes, with nothing bound (no `--listen`), and the
 * bookkeeping the master tests share: every typed event recorded in order.
 */
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import type { MasterEvents } from '../../../src/master/events.js';
import type { HealerOptions } from '../../../src/master/health/healer.js';
import { Master } from '../../../src/master/master.js';
import { type RawStartOptions, parseStartOptions } from '../../../src/master/options/options.js';
import { FakeClock, type FakeProcess, FakeSpawner, fakeOutlets, flush, nextEvent } from '../../helpers/fakes.js';

const SCRIPT = fileURLToPath(import.meta.url);

export interface Harness {
  readonly master: Master;
  readonly spawner: FakeSpawner;
  readonly clock: FakeClock;
  /** What the workers wrote, as relayed to the master's stdout and stderr. */
  readonly written: { stdout: string[]; stderr: string[] };
  /** Every master event, in emission order. */
  readonly events: Array<{ name: keyof MasterEvents; payload: unknown }>;
  named<K extends keyof MasterEvents>(name: K): Array<MasterEvents[K][0]>;
}

export const TIMINGS = {
  readyTimeout: 1_000,
  drainTimeout: 500,
  killTimeout: 100,
  restartDelay: 100,
  restartDelayMax: 400,
} as const;

/** Fake workers send no heartbeat: hang detection only where a test turns it on. */
const NO_HANG = { hangTimeout: 0 };

export function harness(
  raw: Partial<RawStartOptions> = {},
  spawnerOptions: { autoAck?: boolean } = { autoAck: true },
  health?: HealerOptions,
): Harness {
  const options = parseStartOptions({ script: SCRIPT, cwd: dirname(SCRIPT), listen: [], workers: 1, ...TIMINGS, ...NO_HANG, ...raw });
  const spawner = new FakeSpawner(spawnerOptions);
  const clock = new FakeClock();
  const { outlets, written } = fakeOutlets();
  const master = new Master(options, { spawner, clock, output: outlets, pid: 12345, ...(health ? { health } : {}) });
  const events: Harness['events'] = [];
  const originalEmit = master.emit.bind(master) as (name: keyof MasterEvents, ...args: unknown[]) => boolean;
  (master as unknown as { emit: typeof originalEmit }).emit = (name, ...args) => {
    events.push({ name, payload: args[0] });
    return originalEmit(name, ...args);
  };
  const named = <K extends keyof MasterEvents>(name: K) =>
    events.filter((e) => e.name === name).map((e) => e.payload as MasterEvents[K][0]);
  return { master, spawner, clock, written, events, named };
}

/** Starts the master and brings every first-generation worker live. */
export async function startLive(h: Harness): Promise<FakeProcess[]> {
  const ready = nextEvent(h.master, 'master.ready');
  await h.master.start();
  const procs = [...h.spawner.procs];
  for (const proc of procs) proc.ready();
  await ready;
  return procs;
}

/** Messages of `type` the master sent, across all processes, with their global order. */
export function sendsOf(spawner: FakeSpawner, type: string): Array<{ order: number; pid: number }> {
  return spawner.log.flatMap((e) => (e.kind === 'sent' && e.message.type === type ? [{ order: e.order, pid: e.pid }] : []));
}

/** Messages of `type` the workers with these pids emitted to the master, with their global order. */
export function emittedOf(spawner: FakeSpawner, type: string, pids: readonly number[]): Array<{ order: number; pid: number }> {
  return spawner.log.flatMap((e) =>
    e.kind === 'emitted' && pids.includes(e.pid) && (e.message as { type?: unknown }).type === type ? [{ order: e.order, pid: e.pid }] : []);
}

export { flush, nextEvent };
