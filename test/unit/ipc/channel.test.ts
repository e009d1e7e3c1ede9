import { EventEmitter } from 'node:events';
import { systemClock } from '../../../src/clock.js';
import { describe, expect, it, vi } from 'vitest';
import { Channel, type Port, type ResultGuards, type ResultMap } from '../../../src/ipc/channel.js';
import type { Reply } from '../../../src/ipc/envelope.js';
import { IS_MASTER_RESULT_OF, type ToMaster, parseToMaster } from '../../../src/ipc/to-master.js';
import { IS_WORKER_RESULT_OF, type ToWorker, parseToWorker } from '../../../src/ipc/to-worker.js';
import { flush } from '../../helpers/fakes.js';

// A regression here shows up as a promise that never settles: fail in seconds, not at the global 60 s.
vi.setConfig({ testTimeout: 5_000 });

/** One end of an in-memory IPC pipe: what one side sends, the other receives (cloned, later). */
class FakePort extends EventEmitter implements Port {
  peer: FakePort | undefined;
  connected = true;
  failSends: Error | undefined;
  send(message: unknown, handle?: unknown, _options?: object, callback?: (error: Error | null) => void): boolean {
    const copy = structuredClone(message);
    setImmediate(() => {
      if (this.failSends) return callback?.(this.failSends);
      callback?.(null);
      this.peer?.emit('message', copy, handle);
    });
    return true;
  }
  disconnect(): void {
    for (const port of [this, this.peer]) {
      if (!port) continue;
      port.connected = false;
      port.emit('disconnect');
    }
  }
}

function pipe(): [FakePort, FakePort] {
  const a = new FakePort();
  const b = new FakePort();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** Results as the channel's own tests use them: any value, so correlation is tested apart from the protocol's guards. */
const anyResult = (_value: unknown): _value is unknown => true;
const ANY_RESULT: ResultGuards<ResultMap<ToWorker>> = { activate: anyResult, standby: anyResult, resume: anyResult };

function sides(
  workerActivate: (seq: number, reply: Channel<ToMaster, Exclude<ToWorker, Reply>>) => void = () => {},
  results: ResultGuards<ResultMap<ToWorker>> = ANY_RESULT,
) {
  const [masterPort, workerPort] = pipe();
  const heard = { invalid: [] as unknown[], foreign: [] as Array<[unknown, unknown]>, disconnects: 0, drains: [] as unknown[] };
  const master: Channel<ToWorker, Exclude<ToMaster, Reply>> = new Channel(masterPort, {
    clock: systemClock,
    parse: parseToMaster,
    results,
    handlers: {
      listen: (m, handle) => void master.reply(m.seq, { result: m.address }, handle),
      ready: () => {},
      draining: () => {},
      'own-listener': () => {},
      heartbeat: () => {},
    },
    onInvalid: (value) => heard.invalid.push(value),
    onForeign: (value, handle) => heard.foreign.push([value, handle]),
    onDisconnect: () => heard.disconnects++,
  });
  const worker: Channel<ToMaster, Exclude<ToWorker, Reply>> = new Channel(workerPort, {
    clock: systemClock,
    parse: parseToWorker,
    results: IS_MASTER_RESULT_OF,
    handlers: { activate: (m) => workerActivate(m.seq, worker), drain: (m) => heard.drains.push(m), standby: () => {}, resume: () => {} },
    onInvalid: () => {},
    onForeign: () => {},
  });
  return { masterPort, workerPort, master, worker, heard };
}

describe('Channel request/reply', () => {
  it('resolves a request with the matching reply', async () => {
    const { master } = sides((seq, worker) => void worker.reply(seq, { result: { accepting: true } }));
    await expect(master.request({ type: 'activate' }, 1_000)).resolves.toEqual({ value: { accepting: true }, handle: undefined });
  });

  it('passes the handle sent with a reply', async () => {
    const { worker } = sides();
    const address = { kind: 'tcp', host: undefined, port: 3000 } as const;
    const handle = { fake: 'server handle' };
    // the master side answers listen with the address and echoes the handle
    await expect(worker.request({ type: 'listen', address }, 1_000, handle)).resolves.toEqual({ value: { kind: 'tcp', port: 3000 }, handle });
  });

  it('correlates concurrent requests by seq, even when answered out of order', async () => {
    const seqs: number[] = [];
    const { master, worker } = sides((seq) => seqs.push(seq));
    const first = master.request({ type: 'activate' }, 1_000);
    const second = master.request({ type: 'activate' }, 1_000);
    await flush();
    expect(seqs).toEqual([1, 2]);
    await worker.reply(2, { result: 'second' });
    await worker.reply(1, { result: 'first' });
    await expect(first).resolves.toMatchObject({ value: 'first' });
    await expect(second).resolves.toMatchObject({ value: 'second' });
  });

  it('rejects with ERR_IPC_REMOTE when the peer answers with an error', async () => {
    const { master } = sides((seq, worker) => void worker.reply(seq, { error: { code: 'EBUSY', message: 'not now' } }));
    await expect(master.request({ type: 'activate' }, 1_000)).rejects.toMatchObject({ code: 'ERR_IPC_REMOTE', message: 'not now' });
  });
});

describe('Channel reply results (the request→reply map)', () => {
  it('resolves with a result that passes its request type\'s guard', async () => {
    const { master } = sides((seq, worker) => void worker.reply(seq, { result: { listeners: 2 } }), IS_WORKER_RESULT_OF);
    const { value } = await master.request({ type: 'activate' }, 1_000);
    expect(value).toEqual({ listeners: 2 });
  });

  it('rejects with ERR_IPC_REPLY, naming the request, when the result fails its guard', async () => {
    const { master } = sides((seq, worker) => void worker.reply(seq, { result: { listeners: 'many' } }), IS_WORKER_RESULT_OF);
    await expect(master.request({ type: 'activate' }, 1_000)).rejects.toMatchObject({
      code: 'ERR_IPC_REPLY',
      message: `malformed reply to 'activate': {"listeners":"many"}`,
    });
  });
});

describe('Channel failures', () => {
  it('rejects with ERR_IPC_TIMEOUT at the deadline, and a late reply is invalid', async () => {
    let answer: (() => void) | undefined;
    const { master, heard } = sides((seq, worker) => (answer = () => void worker.reply(seq, { result: 'late' })));
    await expect(master.request({ type: 'activate' }, 20)).rejects.toMatchObject({ code: 'ERR_IPC_TIMEOUT', message: expect.stringContaining('activate') });
    answer!();
    await flush();
    expect(heard.invalid).toEqual([{ ovs: 1, type: 'reply', seq: 1, ok: true, result: 'late' }]);
  });

  it('rejects every pending request with ERR_IPC_CLOSED on disconnect, and later ones at once', async () => {
    const { master, masterPort, heard } = sides();
    const pending = [master.request({ type: 'activate' }, 60_000), master.request({ type: 'activate' }, 60_000)];
    await flush();
    masterPort.disconnect();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'ERR_IPC_CLOSED' });
    expect(master.closed).toBe(true);
    expect(heard.disconnects).toBe(1);
    await expect(master.request({ type: 'activate' }, 60_000)).rejects.toMatchObject({ code: 'ERR_IPC_CLOSED' });
    await expect(master.send({ type: 'drain', reason: 'stop', timeoutMs: 1 })).rejects.toMatchObject({ code: 'ERR_IPC_CLOSED' });
  });

  it('rejects with ERR_IPC_CLOSED, keeping the cause, when the send itself fails', async () => {
    const { master, masterPort } = sides();
    const cause = new Error('EPIPE');
    masterPort.failSends = cause;
    await expect(master.request({ type: 'activate' }, 60_000)).rejects.toMatchObject({ code: 'ERR_IPC_CLOSED', cause });
  });
});

describe('Channel incoming messages', () => {
  it.each([
    ['an unknown type', { ovs: 1, type: 'bogus' }],
    ['a malformed listen', { ovs: 1, type: 'listen', seq: 1, address: { kind: 'tcp', port: 'x' } }],
    ['a malformed reply', { ovs: 1, type: 'reply', seq: 'one', ok: true }],
    ['a reply with an unknown seq', { ovs: 1, type: 'reply', seq: 42, ok: true }],
  ])('%s goes to onInvalid', (_what, value) => {
    const { masterPort, heard } = sides();
    masterPort.emit('message', value, undefined);
    expect(heard.invalid).toEqual([value]);
    expect(heard.foreign).toEqual([]);
  });

  it.each([['a string', 'hello'], ['null', null], ['an object without ovs', { type: 'ready' }], ['another version', { ovs: 2, type: 'ready' }]])(
    '%s goes to onForeign with its handle',
    (_what, value) => {
      const { masterPort, heard } = sides();
      const handle = { socket: true };
      masterPort.emit('message', value, handle);
      expect(heard.foreign).toEqual([[value, handle]]);
      expect(heard.invalid).toEqual([]);
    },
  );

  it('dispatches a valid message to its handler', async () => {
    const { master, heard } = sides();
    await master.send({ type: 'drain', reason: 'upgrade', timeoutMs: 500 });
    await flush();
    expect(heard.drains).toEqual([{ ovs: 1, type: 'drain', reason: 'upgrade', timeoutMs: 500 }]);
  });
});
