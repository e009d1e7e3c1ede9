/**
 * A client that asks for progress and does not read must not grow the
 * master's memory: progress lines are dropped while too much waits unsent on
 * its connection, and the result and the closing `done` still arrive once it
 * reads. A real unix socket; the master is a fake that emits the events.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { MasterStatus, UpgradeOutcome } from '../../../../src/ipc/control.js';
import { type ControlServer, openControlServer } from '../../../../src/master/control/server.js';
import type { MasterEvents } from '../../../../src/master/events.js';
import { tempDir } from '../../../helpers/processes.js';

let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

it('drops progress lines for a client that does not read, and still sends the result and done', async () => {
  let finish!: (outcome: UpgradeOutcome) => void;
  const events = new EventEmitter<MasterEvents>();
  const target = Object.assign(events, {
    pid: process.pid,
    options: { workers: 2 },
    upgrade: () => new Promise<UpgradeOutcome>((resolve) => (finish = resolve)),
    status: () => ({}) as MasterStatus,
    stop: async () => {},
    upgradeSelf: async () => ({ ok: false as const, reason: 'busy' as const, message: 'not here', durationMs: 0 }),
  });
  const path = join(tempDir(), 'c.sock');
  let requested!: () => void;
  const received = new Promise<void>((resolve) => (requested = resolve));
  server = await openControlServer({ path, dir: undefined }, target, (_level, fields) => {
    if (fields.event === 'control.request') requested();
  });

  const client = net.connect(path);
  await new Promise((resolve) => client.once('connect', resolve));
  client.write(`${JSON.stringify({ v: 1, id: 1, type: 'upgrade', progress: true })}\n`);
  client.pause(); // reads nothing while the upgrade runs
  await received;

  const facts = { workerId: 1, generation: 2, slot: 0, pid: 1 };
  events.emit('upgrade.started', { generation: 2, trigger: 'control' });
  const EMITTED = 50_000; // ~5 MB of lines: far more than the socket buffers hold
  for (let i = 0; i < EMITTED; i++) events.emit('worker.ready', { ...facts, startupMs: i });
  events.emit('upgrade.succeeded', { generation: 2, previous: undefined, pids: [1, 2], durationMs: 5 });
  finish({ ok: true, generation: 2, pids: [1, 2], durationMs: 5 });

  const lines: { type: string; progress?: { phase: string } }[] = [];
  let data = '';
  client.setEncoding('utf8');
  client.on('data', (chunk: string) => {
    data += chunk;
    let nl: number;
    while ((nl = data.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(data.slice(0, nl)) as (typeof lines)[number]);
      data = data.slice(nl + 1);
    }
  });
  client.resume();
  await expect.poll(() => lines.at(-1)?.progress?.phase, { timeout: 10_000 }).toBe('done');
  client.destroy();

  const readies = lines.filter((l) => l.progress?.phase === 'ready').length;
  console.log(`progress lines: ${EMITTED} ready steps emitted, ${readies} sent to a client that did not read`);
  expect(readies).toBeGreaterThan(0);
  expect(readies).toBeLessThan(EMITTED / 2);
  expect(lines.filter((l) => l.type === 'result')).toHaveLength(1);
});
