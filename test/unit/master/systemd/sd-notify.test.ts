import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { MasterEvents } from '../../../../src/master/events.js';
import { type NotifySource, attachSdNotify } from '../../../../src/master/systemd/sd-notify.js';

class FakeMaster extends EventEmitter<MasterEvents> implements NotifySource {
  readonly held = { all: [{ address: { kind: 'tcp', host: '127.0.0.1', port: 3000 } as const }] };
  currentGeneration: number | undefined = 1;
}

/** A sender whose deliveries the test completes by hand, recording what was in flight. */
function manualSender() {
  const sent: string[][] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (_socket: string, lines: readonly string[]) => {
    sent.push([...lines]);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise<void>((resolve, reject) => pending.push({
      resolve: () => { inFlight--; resolve(); },
      reject: (e) => { inFlight--; reject(e); },
    }));
  };
  return { send, sent, pending, maxInFlight: () => maxInFlight };
}

const log = () => {
  const lines: Array<{ event?: string }> = [];
  return { lines, debug: () => {}, warn: (fields: object) => void lines.push(fields) };
};
const flush = async (s: ReturnType<typeof manualSender>) => {
  // Complete deliveries as they come until the queue is empty.
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setImmediate(r));
    const next = s.pending.shift();
    if (!next) return;
    next.resolve();
  }
};

describe('attachSdNotify', () => {
  it('does nothing without NOTIFY_SOCKET, and removes it from the environment workers inherit', () => {
    const s = manualSender();
    expect(attachSdNotify(new FakeMaster(), { env: {}, log: log(), send: s.send }).enabled).toBe(false);
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify' };
    expect(attachSdNotify(new FakeMaster(), { env, log: log(), send: s.send }).enabled).toBe(true);
    expect(env).toEqual({});
  });

  it('sends one message at a time, in order, with MONOTONIC_USEC from the time the upgrade started', async () => {
    const master = new FakeMaster();
    const s = manualSender();
    let clock = 1000n;
    const notifier = attachSdNotify(master, { env: { NOTIFY_SOCKET: '/n' }, log: log(), send: s.send, monotonicUsec: () => clock });
    master.emit('master.ready', { generation: 1, pids: [10, 11] });
    clock = 2000n;
    master.emit('upgrade.started', { generation: 2, trigger: 'SIGHUP' });
    clock = 3000n;
    master.emit('upgrade.succeeded', { generation: 2, previous: 1, pids: [12, 13], durationMs: 5 });
    master.emit('master.stopping', { reason: 'SIGTERM', graceful: true });
    await new Promise((r) => setImmediate(r));
    expect(s.sent).toHaveLength(1); // the others wait for the first to be delivered
    await flush(s);
    await notifier.idle();
    expect(s.maxInFlight()).toBe(1);
    expect(s.sent).toEqual([
      ['READY=1', 'STATUS=serving generation 1 (2 workers) on 127.0.0.1:3000'],
      ['RELOADING=1', 'MONOTONIC_USEC=2000', 'STATUS=upgrading to generation 2'],
      ['READY=1', 'STATUS=serving generation 2 (2 workers) on 127.0.0.1:3000'],
      ['STOPPING=1', 'STATUS=stopping (SIGTERM)'],
    ]);
  });

  it('reports no reload before the first READY=1, ends a rejected reload with READY=1, and says nothing but STATUS after STOPPING=1', async () => {
    const master = new FakeMaster();
    const s = manualSender();
    const notifier = attachSdNotify(master, { env: { NOTIFY_SOCKET: '/n' }, log: log(), send: s.send });
    // The first generation never got ready; an upgrade replaces it.
    master.emit('upgrade.started', { generation: 2, trigger: 'SIGHUP' });
    master.emit('upgrade.succeeded', { generation: 2, previous: 1, pids: [12], durationMs: 5 });
    master.emit('master.ready', { generation: 2, pids: [12] });
    master.currentGeneration = 2;
    master.emit('upgrade.started', { generation: 3, trigger: 'SIGHUP' });
    master.emit('upgrade.failed', { ok: false, generation: 3, reason: 'ready-timeout', message: 'x', durationMs: 5 });
    master.emit('upgrade.started', { generation: 4, trigger: 'SIGHUP' });
    master.emit('master.stopping', { reason: 'SIGTERM', graceful: true });
    master.emit('upgrade.failed', { ok: false, generation: 4, reason: 'stopping', message: 'x', durationMs: 5 });
    master.emit('master.stopping', { reason: 'second SIGTERM', graceful: false });
    await flush(s);
    await notifier.idle();
    expect(s.sent.map((m) => m[0])).toEqual(['READY=1', 'RELOADING=1', 'READY=1', 'RELOADING=1', 'STOPPING=1', 'STATUS=stopping (second SIGTERM, at once)']);
    expect(s.sent[0]).toEqual(['READY=1', 'STATUS=serving generation 2 (1 worker) on 127.0.0.1:3000']);
    expect(s.sent[2]).toContain('STATUS=upgrade to generation 3 failed (ready-timeout); serving generation 2');
    expect(s.sent.at(-1)).toEqual(['STATUS=stopping (second SIGTERM, at once)']);
  });

  it('warns once and stops sending when systemd-notify is missing; warns for each failed message otherwise', async () => {
    const master = new FakeMaster();
    const missing = log();
    let calls = 0;
    const enoent = () => {
      calls++;
      return Promise.reject(Object.assign(new Error('spawn systemd-notify ENOENT'), { code: 'ENOENT' }));
    };
    const notifier = attachSdNotify(master, { env: { NOTIFY_SOCKET: '/n' }, log: missing, send: enoent });
    master.emit('master.ready', { generation: 1, pids: [1] });
    master.emit('master.stopping', { reason: 'SIGTERM', graceful: true });
    await notifier.idle();
    expect(calls).toBe(1);
    expect(missing.lines.map((l) => l.event)).toEqual(['sd-notify.unavailable']);

    const other = new FakeMaster();
    const failing = log();
    const refused = attachSdNotify(other, { env: { NOTIFY_SOCKET: '/n' }, log: failing, send: () => Promise.reject(new Error('Connection refused')) });
    other.emit('master.ready', { generation: 1, pids: [1] });
    other.emit('master.stopping', { reason: 'SIGTERM', graceful: true });
    await refused.idle();
    expect(failing.lines.map((l) => l.event)).toEqual(['sd-notify.failed', 'sd-notify.failed']);
  });
});
