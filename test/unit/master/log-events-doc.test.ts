/**
 * docs/log-events.md lists every event the master can log, and nothing else.
 *
 * The events the master logs are (1) every master event, as logMasterEvents
 * subscribes to them (the DESCRIBE table of src/master/log-events.ts), and
 * (2) the events logged straight through the logger, found as `event: '…'`
 * literals (a dotted name) anywhere in src/ but src/worker, whose code runs in
 * the app's process (control.*, sd-notify.*, watch.ready…). The documented ones are the first cells of the doc's tables.
 * A new event fails this test, by name, until it has a row.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { logMasterEvents } from '../../../src/master/log-events.js';
import type { Master } from '../../../src/master/master.js';

const ROOT = new URL('../../../', import.meta.url);
const DOC = 'docs/log-events.md';

function subscribedEvents(): string[] {
  const names: string[] = [];
  const master = { on: (name: string) => (names.push(name), master) };
  logMasterEvents(master as unknown as Master, {} as Logger);
  return names;
}

function directlyLoggedEvents(): Map<string, string> {
  const found = new Map<string, string>(); // event → file that logs it
  for (const file of readdirSync(new URL('src', ROOT), { recursive: true }) as string[]) {
    if (!file.endsWith('.ts') || file.startsWith(`worker${sep}`)) continue;
    const text = readFileSync(new URL(`src/${file}`, ROOT), 'utf8');
    for (const match of text.matchAll(/\bevent:\s*(['"`])([a-z][a-z-]*(?:\.[a-z][a-z-]*)+)\1/g)) {
      found.set(match[2]!, join('src', file));
    }
  }
  return found;
}

function documentedEvents(): string[] {
  const text = readFileSync(new URL(DOC, ROOT), 'utf8');
  return [...text.matchAll(/^\| `([a-z][a-z-]*(?:\.[a-z][a-z-]*)+)` \|/gm)].map((m) => m[1]!);
}

describe(DOC, () => {
  const subscribed = subscribedEvents();
  const direct = directlyLoggedEvents();
  const logged = new Set([...subscribed, ...direct.keys()]);
  const documented = documentedEvents();

  it('finds the events on both sides', () => {
    // Guards against a parser that finds nothing and so "passes".
    expect(subscribed).toContain('upgrade.failed');
    expect(direct.get('control.request')).toBe(join('src/master', 'control', 'server.ts'));
    expect(documented).toContain('master.started');
  });

  it('documents every event the master logs', () => {
    const missing = [...logged].filter((name) => !documented.includes(name)).map((name) =>
      `${name} (${direct.get(name) ?? 'src/master/log-events.ts DESCRIBE'})`);
    expect(missing, `master log events missing from ${DOC} (add a row for each): ${missing.join(', ')}`).toEqual([]);
  });

  it('documents no event the master does not log', () => {
    const stale = documented.filter((name) => !logged.has(name));
    expect(stale, `${DOC} lists events the master never logs (remove or rename): ${stale.join(', ')}`).toEqual([]);
  });

  it('documents each event once', () => {
    const twice = documented.filter((name, i) => documented.indexOf(name) !== i);
    expect(twice, `${DOC} lists these events more than once: ${twice.join(', ')}`).toEqual([]);
  });
});
