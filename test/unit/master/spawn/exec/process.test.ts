/**
 * The --exec adapter, driven through a real WorkerHandle with a fake child,
 * a fake clock and a PassThrough as the ready pipe.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { ListenAddress } from '../../../../../src/ipc/address.js';
import { ExecProcess } from '../../../../../src/master/spawn/exec/process.js';
import type { HeldListener } from '../../../../../src/master/sockets/listeners.js';
import { WorkerHandle } from '../../../../../src/master/workers/worker-handle.js';
import { FakeClock, fakeOutlets, flush } from '../../../../helpers/fakes.js';

vi.setConfig({ testTimeout: 5_000 });

const A: ListenAddress = { kind: 'tcp', host: '127.0.0.1', port: 3000 };
const B: ListenAddress = { kind: 'unix', path: '/run/app.sock' };

class FakeChild extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: NodeJS.Signals[] = [];
  constructor(readonly pid: number | undefined) {
    super();
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.stdout.end();
    this.stderr.end();
    this.emit('exit', code, signal);
  }
}

function setup(options: { addresses?: readonly ListenAddress[]; readyDelayMs?: number; pid?: number | undefined } = {}) {
  const addresses = options.addresses ?? [A, B];
  const child = new FakeChild('pid' in options ? options.pid : 4242);
  const ready = new PassThrough();
  const clock = new FakeClock();
  const proc = new ExecProcess(child, { addresses, ready, readyDelayMs: options.readyDelayMs, clock });
  const acquired: ListenAddress[] = [];
  const acquire = (address: ListenAddress): Promise<HeldListener> => {
    acquired.push(address);
    return Promise.resolve({ handle: { close() {} }, address, key: JSON.stringify(address), configured: true });
  };
  const handle = new WorkerHandle(proc, { id: 1, generation: 1, slot: 0 }, { clock, output: fakeOutlets().outlets, acquire });
  const messages: Array<[string, unknown]> = [];
  handle.on('message', (kind, value) => messages.push([kind, value]));
  return { child, ready, clock, proc, handle, acquired, messages };
}

async function live(s: ReturnType<typeof setup>): Promise<void> {
  s.ready.write('READY=1\n');
  await flush();
  await s.handle.activate(1_000);
}

describe('ExecProcess (--exec adapter)', () => {
  it('asks for every socket it was given, so the handle records them as its listeners', async () => {
    const { handle, acquired, messages } = setup();
    await flush();
    expect(acquired).toEqual([A, B]);
    expect([...handle.listenerKeys]).toEqual([JSON.stringify(A), JSON.stringify(B)]);
    expect(messages).toEqual([]); // the replies (with handles) end in the adapter
  });

  it('is ready on a READY=1 line only, however it is split; acks activate at once', async () => {
    const s = setup();
    await flush();
    s.clock.advance(60_000);
    s.ready.write('STATUS=warming up\nREA');
    await flush();
    expect(s.handle.state).toBe('starting');
    s.ready.write('DY=1\r\n');
    await flush();
    expect(s.handle.state).toBe('ready');
    await s.handle.activate(1_000);
    expect(s.handle.state).toBe('live');
    expect(s.messages).toEqual([['foreign', { readyPipe: 'STATUS=warming up' }]]);
  });

  it('says ready only once every listen reply is in', async () => {
    const s = setup();
    let keysAtReady = -1;
    s.handle.on('ready', () => (keysAtReady = s.handle.listenerKeys.size));
    s.ready.write('READY=1\n'); // before the listen requests are even sent
    await flush();
    expect(s.handle.state).toBe('ready');
    expect(keysAtReady).toBe(2);
  });

  it('--ready-delay: ready at the delay without READY=1', async () => {
    const s = setup({ readyDelayMs: 300 });
    await flush();
    s.clock.advance(299);
    await flush();
    expect(s.handle.state).toBe('starting');
    s.clock.advance(1);
    await flush();
    expect(s.handle.state).toBe('ready');
  });

  it('drain: SIGTERM at once, SIGKILL at the drain timeout, reported as forced by SIGKILL', async () => {
    const s = setup();
    await live(s);
    s.handle.drain('upgrade', 500, 100);
    await flush();
    expect(s.child.signals).toEqual(['SIGTERM']);
    s.clock.advance(499);
    expect(s.child.signals).toEqual(['SIGTERM']);
    s.clock.advance(1);
    expect(s.child.signals.at(-1)).toBe('SIGKILL');
    const disconnected = vi.fn();
    s.proc.on('disconnect', disconnected);
    s.child.exit(null, 'SIGKILL');
    const info = await s.handle.exited;
    expect(info).toMatchObject({ state: 'draining', signal: 'SIGKILL', forced: 'SIGKILL' });
    expect(disconnected).toHaveBeenCalledTimes(1);
    expect(s.proc.connected).toBe(false);
    expect(s.clock.pendingTimers).toBe(0);
  });

  it('a program that exits during drain gets no SIGKILL', async () => {
    const s = setup();
    await live(s);
    s.handle.drain('stop', 500, 100);
    await flush();
    s.child.exit(0);
    const info = await s.handle.exited;
    s.clock.advance(1_000);
    expect(s.child.signals).toEqual(['SIGTERM']);
    expect(info).toMatchObject({ code: 0, state: 'draining', forced: undefined });
  });

  it('reports what it cannot translate as an invalid message, and refuses sends after exit', async () => {
    const s = setup();
    await flush();
    s.proc.send({ ovs: 1, type: 'bogus' });
    s.proc.send({ ovs: 1, type: 'reply', seq: 99, ok: true });
    await flush();
    expect(s.messages).toEqual([
      ['invalid', { ovs: 1, type: 'exec.untranslated', received: { ovs: 1, type: 'bogus' } }],
      ['invalid', { ovs: 1, type: 'exec.untranslated', received: { ovs: 1, type: 'reply', seq: 99, ok: true } }],
    ]);
    s.child.exit(1);
    await s.handle.exited;
    const callback = vi.fn();
    expect(s.proc.send({ ovs: 1, type: 'drain', reason: 'stop', timeoutMs: 1 }, undefined, {}, callback)).toBe(false);
    await flush();
    expect(callback.mock.calls[0]?.[0]).toMatchObject({ code: 'ERR_IPC_CLOSED' });
    expect(s.child.signals).toEqual([]);
  });

  it('a program that exits before ready is reported as such, with no ready', async () => {
    const s = setup({ readyDelayMs: 100 });
    await flush();
    s.child.stderr.write('cannot start\n');
    s.child.exit(3);
    const info = await s.handle.exited;
    s.clock.advance(1_000);
    expect(info).toMatchObject({ code: 3, state: 'starting', stderrTail: ['cannot start'] });
  });

  it('a spawn that failed (no pid) ends with the error and asks for nothing', async () => {
    const s = setup({ pid: undefined });
    s.child.stdout.end(); // Node closes a failed child's pipes
    s.child.stderr.end();
    s.child.emit('error', new Error('spawn /bin/sh EACCES'));
    const info = await s.handle.exited;
    await flush();
    expect(s.acquired).toEqual([]);
    expect(info.stderrTail).toEqual(['spawn failed: spawn /bin/sh EACCES']);
  });
});
