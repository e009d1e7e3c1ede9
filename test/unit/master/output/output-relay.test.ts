/**
 * The relay of worker output (output-relay.ts) and the outlet it writes to
 * (outlet.ts), with a fake clock and a destination the test drains by hand.
 */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { type Dropped, Outlet } from '../../../../src/master/output/outlet.js';
import { DETACHED_STALL_MS, MAX_LINE, OutputRelay, PARTIAL_FLUSH_MS } from '../../../../src/master/output/output-relay.js';
import { FakeClock, flush } from '../../../helpers/fakes.js';

vi.setConfig({ testTimeout: 5_000 });

/** A destination that takes a write at once, or (`stalled`) only when the test says so, as a stalled reader of a pipe. */
class Stalled extends Writable {
  readonly written: string[] = [];
  readonly #pending: Array<() => void> = [];
  readonly #stalled: boolean;
  constructor(options: { stalled: boolean; highWaterMark?: number } = { stalled: false }) {
    super({ highWaterMark: options.highWaterMark ?? 16 });
    this.#stalled = options.stalled;
  }
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.written.push(chunk.toString());
    if (this.#stalled) this.#pending.push(callback);
    else callback();
  }
  /** Lets everything queued through. */
  async drainAll(): Promise<void> {
    while (this.#pending.length > 0) {
      for (const callback of this.#pending.splice(0)) callback();
      await flush();
    }
  }
  get text(): string {
    return this.written.join('');
  }
}

function setup(destination: Writable = new Stalled()) {
  const clock = new FakeClock();
  const outlet = new Outlet(destination, { ownLimit: 4096 });
  const dropped: Dropped[] = [];
  outlet.onDropped = (d) => dropped.push(d);
  const source = new PassThrough();
  const relay = new OutputRelay(source, outlet, { clock, label: '[worker 9] ' });
  return { clock, outlet, source, relay, dropped, destination };
}

describe('OutputRelay', () => {
  it('passes whole lines unchanged and holds a partial line until its newline', async () => {
    const s = setup();
    const out = s.destination as Stalled;
    s.source.write('one\ntw');
    await flush();
    expect(out.text).toBe('one\n');
    s.source.write('o\nthree');
    await flush();
    expect(out.text).toBe('one\ntwo\n');
    s.source.end();
    await s.relay.finished;
    expect(out.text).toBe('one\ntwo\nthree\n');
  });

  it(`sends a partial line on its own after ${PARTIAL_FLUSH_MS} ms, with a newline added`, async () => {
    const s = setup();
    const out = s.destination as Stalled;
    s.source.write('Loading...');
    await flush();
    s.clock.advance(PARTIAL_FLUSH_MS - 1);
    expect(out.text).toBe('');
    s.clock.advance(1);
    expect(out.text).toBe('Loading...\n');
    s.source.write(' done\n');
    await flush();
    expect(out.text).toBe('Loading...\n done\n');
  });

  it('cuts a line longer than MAX_LINE into pieces, never inside a UTF-8 character', async () => {
    const s = setup();
    const out = s.destination as Stalled;
    const line = 'a'.repeat(MAX_LINE - 1) + 'é' + 'b'.repeat(10); // 'é' is two bytes, across the limit
    s.source.write(`${line}\n`);
    s.source.end();
    await s.relay.finished;
    expect(out.text.split('\n')).toEqual(['a'.repeat(MAX_LINE - 1), `é${'b'.repeat(10)}`, '']);
    const endless = setup();
    endless.source.write(Buffer.alloc(3 * MAX_LINE, 'c'));
    await flush();
    // Never more than MAX_LINE held, even without a newline.
    expect((endless.destination as Stalled).text).toBe(`${'c'.repeat(MAX_LINE)}\n${'c'.repeat(MAX_LINE)}\n`);
  });

  it('labels a line that would parse as a master log line, however it spells masterPid', async () => {
    const s = setup();
    const out = s.destination as Stalled;
    const lines = [
      '{"level":30,"masterPid":1,"event":"upgrade.succeeded"}',
      ' \t{"m\\u0061sterPid":1}',
      '{"event":"app","msg":"masterPid is a word here"',
      '{"event":"app","msg":"an app line"}',
      'plain masterPid text',
    ];
    s.source.end(lines.join('\n') + '\n');
    await s.relay.finished;
    expect(out.text.split('\n')).toEqual([`[worker 9] ${lines[0]}`, `[worker 9] ${lines[1]}`, lines[2], lines[3], lines[4], '']);
  });

  it('stops reading while the outlet refuses more, and goes on when it drains', async () => {
    const out = new Stalled({ stalled: true, highWaterMark: 8 });
    const s = setup(out);
    s.source.write('first line\n');
    await flush();
    expect(s.source.isPaused()).toBe(true);
    s.source.write('second line\n');
    await flush();
    expect(out.text).toBe('first line\n');
    await out.drainAll();
    expect(s.source.isPaused()).toBe(false);
    expect(out.text).toBe('first line\nsecond line\n');
  });

  it(`gives up a stalled relay of an exited worker after ${DETACHED_STALL_MS} ms and counts what it held`, async () => {
    const out = new Stalled({ stalled: true, highWaterMark: 8 });
    const s = setup(out);
    s.source.write('first line\n');
    await flush();
    s.source.write('held back\npartial');
    await flush();
    s.relay.detach();
    s.clock.advance(DETACHED_STALL_MS);
    await s.relay.finished;
    expect(s.source.destroyed).toBe(true);
    await out.drainAll();
    expect(s.dropped).toEqual([{ masterLines: 0, workerBytes: 'held back\npartial'.length }]);
  });
});

describe('Outlet', () => {
  it("drops the master's own lines beyond its limit while the reader stalls, and reports them when it drains", async () => {
    const out = new Stalled({ stalled: true });
    const { outlet, dropped } = setup(out);
    const line = `${'m'.repeat(99)}\n`;
    for (let i = 0; i < 100; i++) outlet.writeOwn(line);
    expect(dropped).toEqual([]);
    await out.drainAll();
    // Queued while within the limit (4096 bytes here), whole; the rest dropped and counted.
    expect(out.written.length).toBe(41);
    expect(dropped).toEqual([{ masterLines: 59, workerBytes: 0 }]);
    expect(out.written.every((l) => l === line)).toBe(true);
  });

  it('keeps going when the reader is gone (EPIPE), and reports nothing there', async () => {
    const out = new Writable({ write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('EPIPE'), { code: 'EPIPE' })) });
    const { outlet, dropped } = setup(out);
    outlet.writeOwn('lost\n');
    await flush();
    expect(outlet.writeLines(Buffer.from('gone\n'))).toBe(true);
    outlet.writeOwn('lost too\n');
    await outlet.flush(1_000);
    expect(dropped).toEqual([]);
  });
});
