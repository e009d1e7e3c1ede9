/**
 * WebSocket connections across upgrades, with no app code for it: the old
 * worker closes each one with a close frame (1001) at its own moment of
 * `--close-spread`, between the frames the app writes, so clients reconnect
 * to the new version at once and the old worker exits long before its
 * deadline. Real `ws` and socket.io clients, real upgrades, continuous
 * traffic; every message is accounted for.
 */
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { copyExample } from '../helpers/app.js';
import { deadline } from '../helpers/long-lived.js';
import { baseArgs, startMaster, type LogEvent, type MasterRun } from '../helpers/master.js';
import { onCleanup } from '../helpers/processes.js';
import { type Accounting, startEchoClient, startIoClient } from '../helpers/reconnecting.js';

const FIXTURE = 'test/fixtures/websocket-app.cjs';
const DRAIN_TIMEOUT_MS = 20_000;

/** Deploy `version`, upgrade, and return the old worker's drain.started. */
async function upgrade(master: MasterRun, app: { deploy(v: string): void }, version: string): Promise<{ done: LogEvent; drain: LogEvent }> {
  const mark = master.events.length;
  app.deploy(version);
  process.kill(master.pid, 'SIGUSR2');
  const done = await master.waitFor('upgrade.succeeded', undefined, { after: mark });
  const drain = await master.waitFor('drain.started', undefined, { after: mark });
  return { done, drain };
}

function waitUntil(what: string, condition: () => boolean, ms: number): Promise<void> {
  return deadline(new Promise<void>((resolve) => {
    const check = () => (condition() ? resolve() : setTimeout(check, 20));
    check();
  }), what, ms);
}

const stats = (values: number[]) => ({ min: Math.min(...values), max: Math.max(...values) });

describe('WebSocket close on drain', () => {
  it('closes ws and socket.io connections with 1001, spread over --close-spread; they reconnect to the new version at once, nothing lost', async () => {
    const SPREAD_MS = 1_000;
    const UPGRADES = 3;
    const app = copyExample(FIXTURE);
    const master = startMaster(baseArgs(app.script, '--drain-timeout', String(DRAIN_TIMEOUT_MS), '--close-spread', String(SPREAD_MS)));
    await master.waitFor('master.ready');
    const url = await master.url();
    const clients: Array<{ kind: 'ws' | 'io'; acc: Accounting }> = [
      ...Array.from({ length: 50 }, () => ({ kind: 'ws' as const, acc: startEchoClient(url) })),
      ...Array.from({ length: 20 }, () => ({ kind: 'io' as const, acc: startIoClient(url) })),
    ];
    await waitUntil('every client talking to v1', () => clients.every((c) => c.acc.current()?.version === 'v1' && c.acc.answered > 0), 10_000);

    for (let i = 1; i <= UPGRADES; i++) {
      const version = `v${i + 1}`;
      const { done, drain } = await upgrade(master, app, version);
      const oldPid = drain.pid as number;
      const drainAt = drain.time as number;
      // Every client is moved: closed by the old worker, reconnected to the new version.
      await waitUntil(`every client on ${version}`, () => clients.every((c) => c.acc.current()?.version === version), SPREAD_MS + 5_000);
      const finished = await master.waitFor('drain.finished', (e) => e.pid === oldPid);
      expect(finished.forced).toBeUndefined();
      expect(finished.durationMs as number).toBeLessThan(SPREAD_MS + 2_000); // deadline: 20 000

      const closes = clients.map(({ kind, acc }) => {
        const closed = acc.closures.filter((c) => c.pid === oldPid);
        expect(closed, `${kind} closes on ${oldPid}`).toHaveLength(1);
        const close = closed[0]!;
        // The next session: the new version, at once.
        const next = acc.sessions.find((s) => s.at >= close.at)!;
        expect(next.version).toBe(version);
        expect((done.pids as number[]).includes(next.pid)).toBe(true);
        return { kind, code: close.code, reason: close.reason, after: close.at - drainAt, reconnectMs: next.at - close.at };
      });
      expect(new Set(closes.map((c) => c.code))).toEqual(new Set([1001]));
      expect(new Set(closes.filter((c) => c.kind === 'ws').map((c) => c.reason))).toEqual(new Set(['going away']));
      expect(new Set(closes.filter((c) => c.kind === 'io').map((c) => c.reason))).toEqual(new Set(['transport close']));
      // Spread: none before the drain, none after the window (+ scheduling), and
      // spread out across it rather than in one instant.
      const after = stats(closes.map((c) => c.after));
      expect(after.min).toBeGreaterThanOrEqual(-20); // log and drain message are a moment apart
      expect(after.max).toBeLessThan(SPREAD_MS + 300);
      expect(after.max - after.min).toBeGreaterThan(SPREAD_MS / 2);
      const reconnect = stats(closes.map((c) => c.reconnectMs));
      expect(reconnect.max).toBeLessThan(1_000);
      console.log(`upgrade ${i}: closes ${after.min}…${after.max} ms after drain.started, reconnected in ${reconnect.min}…${reconnect.max} ms, drain ${String(finished.durationMs)} ms`);
    }

    await Promise.all(clients.map((c) => c.acc.stop()));
    for (const { kind, acc } of clients) {
      expect(acc.errors, kind).toEqual([]);
      expect(acc.failed).toBe(0);
      expect(acc.answered).toBeGreaterThan(10);
    }
    const sum = (kind: string, key: 'answered' | 'resent') => clients.filter((c) => c.kind === kind).reduce((n, c) => n + c.acc[key], 0);
    console.log(`ws: ${sum('ws', 'answered')} answered, ${sum('ws', 'resent')} resent; socket.io: ${sum('io', 'answered')} acked, ${sum('io', 'resent')} re-emitted, 0 failed`);
    expect(master.count('upgrade.failed')).toBe(0);
  });

  it.each(['/flood', '/stream'])('writes the close frame only between the app\'s frames (%s: 1 MiB messages without pause)', async (path) => {
    const app = copyExample(FIXTURE);
    const master = startMaster(baseArgs(app.script, '--drain-timeout', String(DRAIN_TIMEOUT_MS), '--close-spread', '500'));
    await master.waitFor('master.ready');
    const url = (await master.url()).replace(/^http/, 'ws');
    const flooded = Array.from({ length: 3 }, () => floodClient(`${url}${path.slice(1)}`));
    await deadline(Promise.all(flooded.map((f) => f.receivedSome)), 'no flood messages');

    const { drain } = await upgrade(master, app, 'v2');
    const ends = await deadline(Promise.all(flooded.map((f) => f.ended)), 'flood connections not closed', 5_000);
    for (const end of ends) {
      expect(end.errors).toEqual([]);
      expect(end.code).toBe(1001);
      expect(end.reason).toBe('going away');
      expect(end.messages).toBeGreaterThan(3);
    }
    const finished = await master.waitFor('drain.finished', (e) => e.pid === drain.pid);
    expect(finished.forced).toBeUndefined();
    console.log(`${path}: ${ends.map((e) => e.messages).join(', ')} messages of 1 MiB checked; drain ${String(finished.durationMs)} ms`);
  });
});

interface FloodEnd {
  readonly code: number;
  readonly reason: string;
  readonly messages: number;
  readonly errors: string[];
}

/** A ws client that checks every byte of every flood message (see the fixture). */
function floodClient(url: string): { receivedSome: Promise<void>; ended: Promise<FloodEnd> } {
  const ws = new WebSocket(url);
  onCleanup(() => ws.terminate());
  const errors: string[] = [];
  let messages = 0;
  let hello = false;
  let resolveSome!: () => void;
  const receivedSome = new Promise<void>((resolve) => (resolveSome = resolve));
  ws.on('message', (data: Buffer, isBinary) => {
    if (!hello) {
      hello = !isBinary;
      if (!hello) errors.push('first message not the hello');
      return;
    }
    const seq = Number(data.readBigUInt64BE(0));
    if (seq !== messages) errors.push(`message ${seq}, wanted ${messages}`);
    else if (!data.subarray(8).equals(Buffer.alloc(data.length - 8, seq & 0xff))) errors.push(`message ${seq} corrupt`);
    messages++;
    if (messages === 3) resolveSome();
  });
  ws.on('error', (error) => errors.push(error.message));
  const ended = new Promise<FloodEnd>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason), messages, errors }));
  });
  return { receivedSome, ended };
}
