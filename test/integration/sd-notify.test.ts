/**
 * sd_notify through the real `systemd-notify` program, received by
 * test/fixtures/notify-receiver.py standing in for systemd's notification
 * socket: what a `Type=notify` (or `notify-reload`) unit would be told, in
 * order, across a good upgrade, a rejected one and a stop.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT, baseArgs, startMaster } from '../helpers/master.js';
import { tempDir, track } from '../helpers/processes.js';

const RECEIVER = `${ROOT}test/fixtures/notify-receiver.py`;
const APP = `${ROOT}test/fixtures/env-app.cjs`;

/** A fake NOTIFY_SOCKET: every message it gets (its KEY=value lines), BARRIER=1 left out. */
async function notifySocket(dir: string) {
  const path = join(dir, 'notify.sock');
  const proc = spawn('python3', [RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(proc.pid);
  const messages: string[][] = [];
  const waiters = new Set<() => void>();
  const lines = createInterface({ input: proc.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => (line === 'listening' ? resolve() : reject(new Error(`receiver said ${line}`))));
    proc.once('exit', (code) => reject(new Error(`receiver exited (${code})`)));
  });
  lines.on('line', (line) => {
    const message = JSON.parse(line) as string[];
    if (message[0] !== 'BARRIER=1') messages.push(message);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    path,
    messages,
    /** Resolves with the `n`th message (1-based) containing `line`. */
    nth(line: string, n: number, timeoutMs = 20_000): Promise<string[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.filter((m) => m.includes(line))[n - 1];
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${n}th ${line} within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

function getJson(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('error', reject);
      res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    }).on('error', reject);
  });
}

const monotonicUsec = () => process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC, shared by every process

describe('sd_notify', () => {
  it('says READY, RELOADING with MONOTONIC_USEC, READY (also after a rejected upgrade) and STOPPING, in order', async () => {
    const dir = tempDir();
    const notify = await notifySocket(dir);
    const versionFile = join(dir, 'version');
    writeFileSync(versionFile, 'v1');
    const master = startMaster(baseArgs(APP), { env: { NOTIFY_SOCKET: notify.path, APP_VERSION_FILE: versionFile } });
    const port = await master.port();

    const ready = await notify.nth('READY=1', 1);
    expect(master.count('master.ready')).toBe(1);
    expect(ready).toContain(`STATUS=serving generation 1 (1 worker) on 127.0.0.1:${port}`);
    // Workers cannot talk to the manager.
    expect(await getJson(`http://127.0.0.1:${port}/`)).toMatchObject({ version: 'v1', NOTIFY_SOCKET: null });

    // A good upgrade: RELOADING=1 stamped with the time it started, then READY=1.
    writeFileSync(versionFile, 'v2');
    const before = monotonicUsec();
    process.kill(master.pid, 'SIGHUP');
    const reloading = await notify.nth('RELOADING=1', 1);
    const after = monotonicUsec();
    const stamp = BigInt(reloading.find((l) => l.startsWith('MONOTONIC_USEC='))!.slice('MONOTONIC_USEC='.length));
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(after);
    expect(reloading).toContain('STATUS=upgrading to generation 2');
    const live = await notify.nth('READY=1', 2);
    expect(live).toContain(`STATUS=serving generation 2 (1 worker) on 127.0.0.1:${port}`);
    expect(master.count('upgrade.succeeded')).toBe(1);

    // A rejected upgrade ends the reload too (the old generation serves), and says why.
    writeFileSync(versionFile, 'throw');
    process.kill(master.pid, 'SIGHUP');
    const rejected = await notify.nth('READY=1', 3);
    expect(rejected).toContain('STATUS=upgrade to generation 3 failed (exited-before-ready); serving generation 2');
    expect(master.count('upgrade.failed')).toBe(1);

    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
    // STOPPING=1 was delivered before the master exited.
    expect(notify.messages.map((m) => m[0])).toEqual([
      `STATUS=starting generation 1 on 127.0.0.1:${port}`,
      'READY=1',
      'RELOADING=1',
      'READY=1',
      'RELOADING=1',
      'READY=1',
      'STOPPING=1',
    ]);
    expect(notify.messages.at(-1)).toEqual(['STOPPING=1', 'STATUS=stopping (SIGTERM)']);
  });

  it('without systemd-notify on PATH, warns once and runs as usual', async () => {
    const dir = tempDir();
    const versionFile = join(dir, 'version');
    writeFileSync(versionFile, 'v1');
    const master = startMaster(baseArgs(APP), {
      // A PATH with nothing on it: node is run by its absolute path.
      env: { NOTIFY_SOCKET: join(dir, 'nobody.sock'), APP_VERSION_FILE: versionFile, PATH: tempDir() },
    });
    await master.waitFor('master.ready');
    const mark = master.events.length;
    process.kill(master.pid, 'SIGHUP');
    await master.waitFor('upgrade.succeeded', undefined, { after: mark });
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);
    expect(master.count('sd-notify.unavailable')).toBe(1);
    expect(master.count('sd-notify.failed')).toBe(0);
  });
});
