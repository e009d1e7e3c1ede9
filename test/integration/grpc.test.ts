/**
 * gRPC over the HTTP/2 drain, with @grpc/grpc-js on both sides: unary calls
 * in loops on one channel never fail across upgrades and reach each new
 * version at once; a server-streaming call is the app's to end.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { copyExample } from '../helpers/app.js';
import { deadline } from '../helpers/long-lived.js';
import { baseArgs, startMaster } from '../helpers/master.js';
import { onCleanup } from '../helpers/processes.js';

const serialize = (value: unknown) => Buffer.from(JSON.stringify(value));
const deserialize = (buffer: Buffer) => JSON.parse(buffer.toString()) as { version: string; pid: number; n?: number };

interface Tally {
  ok: number;
  failed: Record<string, number>;
  /** Per version: epoch ms of its first and last answer. */
  spans: Record<string, { first: number; last: number; count: number }>;
}

/** `loops` loops of unary `Version` calls on one channel until `stop()`; every call is counted. */
function callInLoops(client: grpc.Client, loops: number) {
  const tally: Tally = { ok: 0, failed: {}, spans: {} };
  let stopping = false;
  const call = () =>
    new Promise<void>((resolve) => {
      client.makeUnaryRequest('/overseer.test.Probe/Version', serialize, deserialize, {}, { deadline: Date.now() + 10_000 }, (error, reply) => {
        const now = Date.now();
        if (error || !reply) {
          const kind = `${grpc.status[error?.code ?? grpc.status.UNKNOWN]}: ${error?.details}`;
          tally.failed[kind] = (tally.failed[kind] ?? 0) + 1;
        } else {
          tally.ok++;
          const span = (tally.spans[reply.version] ??= { first: now, last: now, count: 0 });
          span.last = now;
          span.count++;
        }
        resolve();
      });
    });
  const running = Array.from({ length: loops }, async () => {
    while (!stopping) await call();
  });
  return {
    tally,
    /** Resolves once `version` has answered `count` more calls. */
    async seen(version: string, count = 200) {
      const from = tally.spans[version]?.count ?? 0;
      await deadline((async () => {
        while ((tally.spans[version]?.count ?? 0) - from < count) await new Promise((r) => setTimeout(r, 10)); // poll the tally
      })(), `${version} not seen ${count} more times`);
    },
    async stop() {
      stopping = true;
      await Promise.all(running);
      return tally;
    },
  };
}

function newClient(port: number): grpc.Client {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  onCleanup(() => client.close());
  return client;
}

describe('gRPC (@grpc/grpc-js)', () => {
  it('unary calls in 4 loops on one channel across 10 upgrades: 0 failed calls, each version live within 1 s', async () => {
    const app = copyExample('test/fixtures/grpc-app.cjs');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', '30000'));
    await master.waitFor('master.ready');
    const client = newClient(await master.port());
    const calls = callInLoops(client, 4);
    await calls.seen('v1');

    const upgrades: Array<{ from: string; liveAt: number; generation: number }> = [];
    for (let n = 2; n <= 11; n++) {
      const [from, to] = [`v${n - 1}`, `v${n}`];
      app.deploy(to);
      const mark = master.events.length;
      process.kill(master.pid, 'SIGUSR2');
      const live = await master.upgraded(mark);
      upgrades.push({ from, liveAt: live.time as number, generation: live.generation as number });
      await calls.seen(to);
    }
    const tally = await calls.stop();

    expect(tally.failed).toEqual({});
    expect(Object.keys(tally.spans)).toHaveLength(11);
    for (const { from, liveAt, generation } of upgrades) {
      expect(tally.spans[from]!.last - liveAt).toBeLessThan(1000);
      const [drained] = master.events.filter((e) => e.event === 'drain.finished' && e.generation === generation - 1);
      expect(drained?.forced).toBeUndefined();
      expect(drained?.durationMs as number).toBeLessThan(3000);
    }
  });

  it('a server-streaming call ended by the app in onShutdown: the client sees OK, the old worker exits at once', async () => {
    const app = copyExample('test/fixtures/grpc-app.cjs');
    const master = startMaster(baseArgs(app.script, '--drain-timeout', '30000'), { env: { ENDS_STREAMS_ON_SHUTDOWN: '1' } });
    await master.waitFor('master.ready');
    const client = newClient(await master.port());
    const stream = client.makeServerStreamRequest('/overseer.test.Probe/Ticks', serialize, deserialize, {});
    const messages: Array<{ version: string }> = [];
    stream.on('data', (m: { version: string }) => messages.push(m));
    const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.on('error', () => {}); // 'status' says how it ended
    await deadline(new Promise((resolve) => stream.once('data', resolve)), 'no tick');

    app.deploy('v2');
    process.kill(master.pid, 'SIGUSR2');
    expect((await deadline(status, 'no end of stream')).code).toBe(grpc.status.OK);
    expect(messages.every((m) => m.version === 'v1')).toBe(true);
    const finished = await master.waitFor('drain.finished');
    expect(finished.forced).toBeUndefined();
    expect(finished.durationMs as number).toBeLessThan(3000);
    // The same channel's next call reaches the new version.
    const reply = await new Promise<{ version: string }>((resolve, reject) =>
      client.makeUnaryRequest('/overseer.test.Probe/Version', serialize, deserialize, {}, (error, value) => (error ? reject(error) : resolve(value!))),
    );
    expect(reply.version).toBe('v2');
  });
});
