/**
 * `overseer upgrade` on a terminal shows the upgrade as it runs. The command
 * runs in a real pseudo-terminal (tmux) and the test reads the screen as a
 * person would: while the new generation is still starting, and at the end.
 * On the wire: a client that asks for progress gets `progress` lines around
 * its `result`; one that does not gets today's single line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, type MasterRun, baseArgs, startMaster } from '../helpers/master.js';
import { appSource, makeApp } from '../helpers/app.js';
import { getVersion } from '../helpers/http.js';
import { onCleanup, tempDir, track } from '../helpers/processes.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.log('upgrade-progress: skipping the terminal tests: tmux is not installed (apt-get install -y tmux)');

/** The app of `version`, whose `listen()` comes `delayMs` after it starts: a slow boot. */
function slowBoot(version: string, delayMs: number): string {
  const source = appSource(version);
  const slow = source.replace(/server\.listen\((.*)\);\n$/, `setTimeout(() => server.listen($1), ${delayMs});\n`);
  expect(slow).not.toBe(source);
  return slow;
}

/** A tmux server of our own (its own socket) running `command` in a 160×20 pane. */
function terminal(command: string): { screen(): string } {
  const dir = tempDir('overseer-tmux-');
  const socket = join(dir, 'tmux.sock');
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-x', '160', '-y', '20', command);
  track(Number(tmux('display-message', '-p', '#{pid}').trim()));
  onCleanup(() => spawnSync('tmux', ['-S', socket, 'kill-server']));
  return { screen: () => tmux('capture-pane', '-p') };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function upgradeIn(master: MasterRun): { screen(): string } {
  const command = `cd ${shellQuote(master.runtimeDir)} && XDG_RUNTIME_DIR=${shellQuote(master.runtimeDir)} ${shellQuote(process.execPath)} ${shellQuote(BIN)} upgrade; echo "exit=$?"; sleep 600`;
  return terminal(command);
}

describe.skipIf(!hasTmux)('overseer upgrade on a terminal', () => {
  it('shows the new generation spawned and starting while it boots, then live, the drain and the phase times', async () => {
    const app = makeApp('v1');
    // Heartbeats every 100 ms (hang-timeout / 4), so the drain's connection
    // count is fresh. The environment variable says the same to workers of a
    // master that does not set it from --hang-timeout yet (it is inherited).
    const master = startMaster(baseArgs(app.script, '--workers', '2', '--hang-timeout', '400'), { env: { OVERSEER_HEARTBEAT_MS: '100' } });
    await master.waitFor('master.ready');
    const url = await master.url();
    // A request in flight on the old generation, so its drain takes a while.
    const held = fetch(await master.url('/slow?ms=3500')).then((r) => r.text());
    await master.waitForOutput(/slow request started/);

    writeFileSync(app.script, slowBoot('v2', 2000));
    const tty = upgradeIn(master);

    // During the upgrade: both new workers spawned, none ready yet.
    let during = '';
    await expect.poll(() => (during = tty.screen()), { timeout: 15_000, interval: 50 }).toMatch(/spawned 2\/2, ready 0\/2/);
    expect(master.events.some((e) => e.event === 'upgrade.succeeded' && e.generation === 2), 'captured before the upgrade ended').toBe(false);
    expect(during).toMatch(/overseer: generation 2 starting: spawned 2\/2, ready 0\/2 … [\d.]+ (ms|s)/);

    // While the old generation drains (the held request keeps one worker busy).
    let draining = '';
    await expect.poll(() => (draining = tty.screen()), { timeout: 15_000, interval: 50 }).toMatch(/generation 1 draining: 1 worker, 1 connection left/);
    expect(draining).toMatch(/overseer: generation 2 is live after \d+ ms \(worker pids \d+, \d+\)/);
    expect(master.events.some((e) => e.event === 'drain.finished' && e.generation === 1 && e.workerId === lastOld(master))).toBe(false);

    let end = '';
    await expect.poll(() => (end = tty.screen()), { timeout: 20_000, interval: 100 }).toMatch(/exit=\d+/);
    console.log(`the screen while starting:\n${during.trimEnd()}\nwhile draining:\n${draining.trimEnd()}\nat the end:\n${end.trimEnd()}`);
    const lines = end.split('\n').filter((l) => l.trim() !== '');
    expect(lines[0]).toMatch(/^overseer: generation 2 started: spawned 2\/2, ready 2\/2 \(2\.\d s, 2\.\d s\)$/);
    expect(lines[1]).toMatch(/^overseer: generation 2 is live after \d+ ms \(worker pids \d+, \d+\)$/);
    expect(lines[2]).toMatch(/^overseer: generation 1 drained in [\d.]+ (ms|s): done after [\d.]+ s$/);
    expect(lines[3]).toBe('exit=0');
    expect(await held).toBe('v1 slow\n');
    expect(await getVersion(url)).toBe('v2');
  });

  it('shows a rejected upgrade as it ended, with the reason on stderr, and exits 1', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'));
    await master.waitFor('master.ready');
    app.deploy('v2', 'throw-at-start');
    const tty = upgradeIn(master);
    let end = '';
    await expect.poll(() => (end = tty.screen()), { timeout: 15_000, interval: 100 }).toMatch(/exit=\d+/);
    expect(end).toMatch(/overseer: generation 2 starting: spawned \d\/2, ready 0\/2\n/);
    expect(end).toMatch(/overseer: upgrade to generation 2 failed after \d+ ms: exited-before-ready/);
    expect(end).toContain('exit=1');
  });
});

/** The old generation's worker that drains last: the one holding the slow request is not known, so any not yet finished. */
function lastOld(master: MasterRun): number {
  const old = master.events.filter((e) => e.event === 'worker.spawned' && e.generation === 1).map((e) => e.workerId as number);
  const finished = new Set(master.events.filter((e) => e.event === 'drain.finished').map((e) => e.workerId as number));
  return old.find((id) => !finished.has(id)) ?? -1;
}

/**
 * Send one request line; collect the lines answered until the socket
 * closes, or `until` matches one and `graceMs` more have passed (to see
 * that nothing else follows).
 */
function exchange(path: string, request: object, until: (line: Record<string, unknown>) => boolean, graceMs = 0): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const lines: Record<string, unknown>[] = [];
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      let nl: number;
      while ((nl = data.indexOf('\n')) >= 0) {
        const line = JSON.parse(data.slice(0, nl)) as Record<string, unknown>;
        data = data.slice(nl + 1);
        lines.push(line);
        if (until(line)) {
          setTimeout(() => {
            socket.destroy();
            resolve(lines);
          }, graceMs);
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(lines));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
  });
}

/** The progress line that ends an upgrade's stream. */
const isDone = (l: Record<string, unknown>) => (l.progress as { phase?: string } | undefined)?.phase === 'done';

describe('the progress lines on the control socket', () => {
  it('streams started, spawned, ready, live before the result and done after it; without the flag, only the result', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'));
    await master.waitFor('master.ready');
    const path = join(master.runtimeDir, 'overseer', 'overseer.sock');

    app.deploy('v2');
    const lines = await exchange(path, { v: 1, id: 7, type: 'upgrade', progress: true }, isDone);
    const kinds = lines.map((l) => (l.type === 'progress' ? (l.progress as { phase: string }).phase : l.type));
    expect(kinds.slice(0, 5)).toEqual(['started', 'spawned', 'spawned', 'ready', 'ready']);
    expect(kinds.indexOf('live')).toBeLessThan(kinds.indexOf('result'));
    expect(kinds.at(-1)).toBe('done');
    expect(lines.every((l) => l.v === 1 && l.id === 7)).toBe(true);
    expect(lines.find((l) => l.type === 'result')!.result).toMatchObject({ ok: true, generation: 2 });
    expect((lines.at(-1)!.progress as { generation: number }).generation).toBe(2);

    app.deploy('v3');
    const plain = await exchange(path, { v: 1, id: 8, type: 'upgrade' }, (l) => l.type === 'result', 300);
    expect(plain.map((l) => l.type)).toEqual(['result']);
    expect(plain[0]!.result).toMatchObject({ ok: true, generation: 3 });
  });

  it('refuses a `progress` that is not a boolean', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    await master.waitFor('master.ready');
    const path = join(master.runtimeDir, 'overseer', 'overseer.sock');
    const lines = await exchange(path, { v: 1, id: 1, type: 'upgrade', progress: 'yes' }, () => false);
    expect(lines).toEqual([{ v: 1, id: 1, type: 'error', error: { code: 'bad-request', message: '`progress` must be a boolean' } }]);
  });
});

describe('a progress request that joins a running upgrade', () => {
  it('starts from what has happened so far, then follows the follow-up whose outcome it gets', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'));
    await master.waitFor('master.ready');
    const path = join(master.runtimeDir, 'overseer', 'overseer.sock');
    writeFileSync(app.script, slowBoot('v2', 1500));
    const first = master.cli(['upgrade']);
    await master.waitFor('worker.spawned', (e) => e.generation === 2 && e.slot === 1);

    const lines = await exchange(path, { v: 1, id: 1, type: 'upgrade', progress: true }, isDone);
    expect(lines.slice(0, 2).map((l) => l.progress)).toEqual([
      { phase: 'started', generation: 2, of: 2, atMs: 0 },
      { phase: 'spawned', generation: 2, spawned: 2, of: 2, atMs: 0 },
    ]);
    expect(lines.find((l) => l.type === 'result')!.result).toMatchObject({ ok: true, generation: 3 });
    expect(lines.some((l) => (l.progress as { phase?: string; generation?: number } | undefined)?.phase === 'started'
      && (l.progress as { generation: number }).generation === 3)).toBe(true);
    expect((await first).code).toBe(0);
  });
});
