/**
 * The metrics recorder (src/master/metrics/record.ts) against a stand-in
 * master whose workers are plain emitters:
 * - requests_total adds each worker's increase and keeps what an exited
 *   worker had counted, so it never goes back when its replacement starts
 *   from 0;
 * - restarts and upgrade results are counted by the tables' rules;
 * - a scrape with 64 workers answers within 50 ms: their memory is read from
 *   /proc for real, of 64 real processes (`sleep`), not a fake.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { readRss } from '../../../../src/master/health/rss.js';
import type { Master } from '../../../../src/master/master.js';
import { recordMetrics } from '../../../../src/master/metrics/record.js';
import { track } from '../../../helpers/processes.js';

class FakeWorker extends EventEmitter {
  state = 'live';
  readonly exited: Promise<void>;
  #exit!: () => void;
  constructor(readonly id: number, readonly generation: number, readonly slot: number, readonly pid: number | undefined) {
    super();
    this.exited = new Promise((resolve) => (this.#exit = resolve));
  }
  exit(): void {
    this.state = 'exited';
    this.#exit();
  }
}

class FakeMaster extends EventEmitter {
  workers: FakeWorker[] = [];
  currentGeneration: number | undefined = 1;
  add(worker: FakeWorker): FakeWorker {
    this.workers.push(worker);
    this.emit('worker.spawned', { workerId: worker.id });
    return worker;
  }
}

function setup() {
  const master = new FakeMaster();
  const series = recordMetrics(master as unknown as Master, readRss);
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = series.registry.getSingleMetric(name)!;
    const { values } = await metric.get();
    return values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))?.value;
  };
  return { master, series, value };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('metrics recorder', () => {
  it('requests_total never goes back when a worker is replaced by one counting from 0', async () => {
    const { master, value } = setup();
    const a = master.add(new FakeWorker(1, 1, 0, undefined));
    a.emit('heartbeat', { connections: 2, requests: 3 });
    a.emit('heartbeat', { connections: 1, requests: 5 });
    expect(await value('overseer_requests_total')).toBe(5);
    a.exit();
    await a.exited;
    const b = master.add(new FakeWorker(2, 1, 0, undefined));
    b.emit('heartbeat', { connections: 0, requests: 0 });
    expect(await value('overseer_requests_total')).toBe(5);
    b.emit('heartbeat', { connections: 4, requests: 3 });
    expect(await value('overseer_requests_total')).toBe(8);
    expect(await value('overseer_worker_connections', { slot: '0' })).toBe(4);
  });

  it('counts crashes, upgrade results, and nothing for expected exits or a stopping upgrade', async () => {
    const { master, value } = setup();
    master.emit('worker.exited', { expected: true });
    master.emit('worker.exited', { expected: false });
    master.emit('upgrade.succeeded', {});
    master.emit('upgrade.failed', { reason: 'ready-timeout' });
    master.emit('upgrade.failed', { reason: 'stopping' });
    expect(await value('overseer_worker_restarts_total', { reason: 'crash' })).toBe(1);
    expect(await value('overseer_worker_restarts_total', { reason: 'hang' })).toBe(0);
    expect(await value('overseer_upgrades_total', { result: 'succeeded' })).toBe(1);
    expect(await value('overseer_upgrades_total', { result: 'failed' })).toBe(1);
    expect(await value('overseer_upgrades_total', { result: 'rolled_back' })).toBe(0);
  });

  it('counts a hung worker as a hang, a recycled one as memory, and a rolled-back upgrade as rolled_back', async () => {
    const { master, value } = setup();
    master.emit('worker.hung', {});
    master.emit('worker.exited', { expected: true }); // the hung worker, killed once replaced
    master.emit('worker.recycled', {});
    master.emit('upgrade.rolled-back', {});
    expect(await value('overseer_worker_restarts_total', { reason: 'hang' })).toBe(1);
    expect(await value('overseer_worker_restarts_total', { reason: 'memory' })).toBe(1);
    expect(await value('overseer_worker_restarts_total', { reason: 'crash' })).toBe(0);
    expect(await value('overseer_upgrades_total', { result: 'rolled_back' })).toBe(1);
  });

  it('a scrape with 64 workers answers within 50 ms (memory read from /proc of 64 real processes)', async () => {
    const { master, series } = setup();
    for (let slot = 0; slot < 64; slot++) {
      const child = spawn('sleep', ['60'], { stdio: 'ignore' });
      children.push(child);
      track(child.pid);
      await once(child, 'spawn');
      master.add(new FakeWorker(slot + 1, 1, slot, child.pid)).emit('heartbeat', { connections: slot, requests: slot });
    }
    const times: number[] = [];
    let text = '';
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      text = await series.registry.metrics();
      times.push(performance.now() - started);
    }
    expect(text.match(/^overseer_worker_resident_memory_bytes\{slot="\d+"\} [1-9]\d*$/gm)).toHaveLength(64);
    expect(text.match(/^overseer_worker_connections\{slot="\d+"\} \d+$/gm)).toHaveLength(64);
    times.sort((x, y) => x - y);
    const [first, median, worst] = [times[0]!, times[10]!, times.at(-1)!];
    console.log(`scrape with 64 workers: best ${first.toFixed(1)} ms, median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms (${text.length} bytes)`);
    expect(median).toBeLessThan(50);
  });
});
