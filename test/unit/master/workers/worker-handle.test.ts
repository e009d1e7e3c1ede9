import { describe, expect, it, vi } from 'vitest';
import { ListenError } from '../../../../src/errors.js';
import type { ListenAddress } from '../../../../src/ipc/address.js';
import type { HeldListener } from '../../../../src/master/sockets/listeners.js';
import { type ExitInfo, WorkerHandle } from '../../../../src/master/workers/worker-handle.js';
import { FakeClock, FakeSpawner, fakeOutlets, flush } from '../../../helpers/fakes.js';

// A regression here shows up as a promise that never settles: fail in seconds, not at the global 60 s.
vi.setConfig({ testTimeout: 5_000 });

function setup(acquire: (address: ListenAddress) => Promise<HeldListener> = () => Promise.reject(new Error('unused'))) {
  const spawner = new FakeSpawner();
  const proc = spawner.spawn({ script: 'app.js', args: [], cwd: '/', env: {}, nodeArgs: [] });
  const clock = new FakeClock();
  const { outlets, written } = fakeOutlets();
  const relayed = written.stderr;
  const handle = new WorkerHandle(proc, { id: 7, generation: 3, slot: 1 }, { clock, output: outlets, acquire });
  const states: string[] = [];
  handle.on('state', (from, to) => states.push(`${from}->${to}`));
  return { spawner, proc, clock, handle, states, relayed };
}

describe('WorkerHandle', () => {
  it('walks starting → ready → live → draining → exited, one state event per edge', async () => {
    const { proc, handle, states } = setup();
    proc.autoAck();
    proc.ready();
    expect(handle.state).toBe('ready');
    await handle.activate(1_000);
    expect(handle.state).toBe('live');
    handle.drain('upgrade', 500, 100);
    expect(proc.sentOf('drain')).toEqual([{ ovs: 1, type: 'drain', reason: 'upgrade', timeoutMs: 500 }]);
    proc.exit(0);
    const info = await handle.exited;
    expect(info).toMatchObject({ code: 0, signal: null, state: 'draining', forced: undefined });
    expect(states).toEqual(['starting->ready', 'ready->live', 'live->draining', 'draining->exited']);
  });

  it('ignores a second ready and kills, rather than drains, a worker that is not live', async () => {
    const { proc, handle, states } = setup();
    proc.ready();
    proc.ready();
    handle.dismiss('stop', 500, 100);
    expect(proc.sentOf('drain')).toEqual([]);
    expect(proc.signals).toEqual(['SIGKILL']);
    expect((await handle.exited).state).toBe('ready');
    expect(states).toEqual(['starting->ready', 'ready->exited']);
  });

  it('relays stderr and keeps its last lines for the exit report', async () => {
    const { proc, handle, relayed } = setup();
    proc.stderr.write('first\n\nsecond\n');
    await flush();
    proc.exit(1);
    const info: ExitInfo = await handle.exited;
    expect(relayed.join('')).toBe('first\n\nsecond\n');
    expect(info.stderrTail).toEqual(['first', 'second']);
  });

  it('waits up to 200 ms (clock) for stderr to end before reporting the exit', async () => {
    const { proc, clock, handle } = setup();
    let exited = false;
    void handle.exited.then(() => (exited = true));
    proc.emit('exit', 0, null); // stderr left open
    clock.advance(199);
    await flush();
    expect(exited).toBe(false);
    clock.advance(1);
    await flush();
    expect(exited).toBe(true);
  });

  it('answers a listen request with the held listener and its handle', async () => {
    const address: ListenAddress = { kind: 'tcp', host: undefined, port: 3000 };
    const held: HeldListener = { handle: { close() {} }, address, key: '*:3000', configured: true };
    const { spawner, proc, handle } = setup(async () => held);
    const seq = proc.requestListen(address);
    expect(await proc.waitForSent('reply')).toEqual({ ovs: 1, type: 'reply', seq, ok: true, result: address });
    const entry = spawner.log.find((e) => e.kind === 'sent' && e.message.type === 'reply');
    expect(entry && entry.kind === 'sent' && entry.handle).toBe(held.handle);
    expect([...handle.listenerKeys]).toEqual(['*:3000']);
  });

  it('keeps the first 8 own-listener reports, and rejects malformed ones as invalid', () => {
    const { proc, handle } = setup();
    const heard: unknown[] = [];
    const invalid: unknown[] = [];
    handle.on('own-listener', (l) => heard.push(l));
    handle.on('message', (kind, value) => kind === 'invalid' && invalid.push(value));
    for (let port = 40_000; port < 40_020; port++) {
      proc.emitMessage({ ovs: 1, type: 'own-listener', address: { kind: 'tcp', host: '::', port }, via: 'port-0' });
    }
    proc.emitMessage({ ovs: 1, type: 'own-listener', address: { kind: 'tcp', host: '::', port: 1 }, via: 'magic' });
    proc.emitMessage({ ovs: 1, type: 'own-listener', address: { kind: 'unix', path: 'x'.repeat(10_000) }, via: 'fd' });
    expect(handle.ownListeners).toHaveLength(8);
    expect(heard).toHaveLength(8);
    expect(handle.ownListeners[0]).toEqual({ address: { kind: 'tcp', host: '::', port: 40_000 }, via: 'port-0' });
    expect(invalid).toHaveLength(2);
  });

  it('answers a listen request that cannot be served with the system error code', async () => {
    const cause = Object.assign(new Error('EADDRINUSE'), { code: 'EADDRINUSE' });
    const { proc, handle } = setup(() => Promise.reject(new ListenError('cannot listen on *:3000: EADDRINUSE', { cause })));
    const seq = proc.requestListen({ kind: 'tcp', host: undefined, port: 3000 });
    expect(await proc.waitForSent('reply')).toEqual({
      ovs: 1, type: 'reply', seq, ok: false, error: { code: 'EADDRINUSE', message: 'cannot listen on *:3000: EADDRINUSE' },
    });
    expect(handle.listenerKeys.size).toBe(0);
  });
});
