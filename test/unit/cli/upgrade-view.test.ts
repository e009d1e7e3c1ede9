/**
 * The terminal view of `overseer upgrade`, fed progress steps by hand: what
 * a terminal shows is what is left after applying `\r` and erase-line.
 */
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { UpgradeView, formatMs } from '../../../src/cli/upgrade-view.js';

/** A writable that keeps the screen as a terminal would: `\r\x1b[2K` erases the current line. */
function screen(): { out: Writable; text(): string } {
  let lines: string[] = [''];
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const part of chunk.toString().split(/(\r\x1b\[2K|\n)/)) {
        if (part === '\r\x1b[2K') lines[lines.length - 1] = '';
        else if (part === '\n') lines.push('');
        else lines[lines.length - 1] += part;
      }
      callback();
    },
  });
  return { out, text: () => lines.join('\n') };
}

it('rewrites the current line as steps arrive, and leaves each stage as it ended', () => {
  let now = 1_000;
  const tty = screen();
  const view = new UpgradeView(tty.out, () => now);
  view.progress({ phase: 'started', generation: 4, of: 3, atMs: 0 });
  view.progress({ phase: 'spawned', generation: 4, spawned: 3, of: 3, atMs: 5 });
  now += 1_500;
  view.progress({ phase: 'ready', generation: 4, ready: 1, of: 3, startupMs: 1_490, atMs: 1_495 });
  expect(tty.text()).toBe('overseer: generation 4 starting: spawned 3/3, ready 1/3 (1.5 s) … 1.5 s');
  view.progress({ phase: 'ready', generation: 4, ready: 2, of: 3, startupMs: 1_500, atMs: 1_500 });
  view.progress({ phase: 'ready', generation: 4, ready: 3, of: 3, startupMs: 1_510, atMs: 1_510 });
  view.progress({ phase: 'live', generation: 4, atMs: 1_520 });
  view.progress({ phase: 'watching', generation: 4, secondsLeft: 12, atMs: 18_000 });
  expect(tty.text()).toBe('overseer: generation 4 started: spawned 3/3, ready 3/3 (1.5 s, 1.5 s, 1.5 s)\n'
    + 'overseer: generation 4 is live; watching for a rollback… 12 s left');
  view.progress({ phase: 'draining', generation: 3, workers: 2, connections: 14, atMs: 30_000 });
  expect(tty.text()).toMatch(/\noverseer: generation 3 draining: 2 workers, 14 connections left … 1\.5 s$/);
  view.progress({ phase: 'done', generation: 4, liveMs: 1_520, drainMs: 30_480, atMs: 32_000 });
  view.end();
  expect(tty.text().split('\n').slice(1)).toEqual(['overseer: generation 3 drained in 30.5 s: done after 32.0 s', '']);
});

it('a rejected upgrade leaves the starting line as it was and writes the outcome to stderr', () => {
  const tty = screen();
  const err = screen();
  const view = new UpgradeView(tty.out, () => 0);
  view.progress({ phase: 'started', generation: 2, of: 2, atMs: 0 });
  view.progress({ phase: 'spawned', generation: 2, spawned: 1, of: 2, atMs: 1 });
  view.outcome({ ok: false, generation: 2, reason: 'exited-before-ready', message: 'boom', durationMs: 9 }, 'overseer: failed\n', err.out);
  view.progress({ phase: 'done', generation: 2, liveMs: undefined, drainMs: undefined, atMs: 9 });
  view.end();
  expect(tty.text()).toBe('overseer: generation 2 starting: spawned 1/2, ready 0/2\n');
  expect(err.text()).toBe('overseer: failed\n');
});

it('formats times as a person reads them', () => {
  expect([formatMs(12), formatMs(999), formatMs(1_000), formatMs(20_049)]).toEqual(['12 ms', '999 ms', '1.0 s', '20.0 s']);
});
