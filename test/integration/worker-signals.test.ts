/**
 * Signals meant for the master that reach workers too (`systemctl kill`'s
 * default `--kill-whom=all`, `KillMode=control-group`, a script signalling a
 * process group): SIGHUP and SIGUSR2 leave a worker alone, a SIGTERM sent
 * straight to a worker drains it gracefully while the master replaces it, and
 * an app with its own listener keeps its signal. All under an accounting
 * load client: not one request may fail.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appSource, makeApp } from '../helpers/app.js';
import { get, getVersion } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';
import { type LogEvent, type MasterRun, baseArgs, startMaster } from '../helpers/master.js';
import { isAlive, tempDir } from '../helpers/processes.js';

/** Workers whose preload runs (ready or live) and that have not exited. */
function signallable(master: MasterRun): number[] {
  const exited = new Set(master.events.filter((e) => e.event === 'worker.exited').map((e) => e.pid));
  const ready = master.events.filter((e) => e.event === 'worker.ready').map((e) => e.pid as number);
  return ready.filter((pid) => !exited.has(pid));
}

/** SIGHUP and SIGUSR2 to each worker and to its process group (each worker leads its own). */
function pester(pids: readonly number[]): number {
  let sent = 0;
  for (const pid of pids) {
    for (const target of [pid, -pid]) {
      for (const signal of ['SIGHUP', 'SIGUSR2'] as const) {
        try {
          process.kill(target, signal);
          sent++;
        } catch {
          // exited meanwhile
        }
      }
    }
  }
  return sent;
}

/** A CommonJS app in a temporary directory. */
function writeScript(source: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  writeFileSync(join(dir, 'server.js'), source);
  return join(dir, 'server.js');
}

const killedBy = (signals: string[]) => (e: LogEvent) => signals.includes(e.signal as string);

describe('signals sent to workers', () => {
  it('SIGHUP and SIGUSR2 to every worker and its process group, throughout 3 upgrades under load: no request fails, no worker dies', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'));
    await master.waitFor('master.ready');
    const load = await startLoad(await master.url(), { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1');

    let sent = 0;
    for (let i = 2; i <= 4; i++) {
      sent += pester(signallable(master));
      await load.waitForVersion(`v${i - 1}`, { minCount: 200 }); // the signalled workers go on serving
      app.deploy(`v${i}`);
      const mark = master.events.length;
      // The whole upgrade long: old live workers, and new ones from the moment they are ready.
      const timer = setInterval(() => (sent += pester(signallable(master))), 20);
      process.kill(master.pid, 'SIGUSR2');
      try {
        const done = await master.upgraded(mark);
        expect(done.generation).toBe(i);
      } finally {
        clearInterval(timer);
      }
      sent += pester(signallable(master));
      await load.waitForVersion(`v${i}`, { minCount: 200 });
    }
    const report = await load.stop();

    expect(sent).toBeGreaterThan(50);
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(master.count('worker.exited', killedBy(['SIGHUP', 'SIGUSR2']))).toBe(0);
    expect(master.count('worker.exited', (e) => e.expected === false)).toBe(0);
    expect(master.count('upgrade.failed')).toBe(0);
    expect(master.count('drain.finished', (e) => e.forced !== undefined)).toBe(0);
    const live = signallable(master);
    expect(live).toHaveLength(2);
    expect(live.every(isAlive)).toBe(true);
  });

  it('SIGTERM to the only live worker under load: it drains (a slow request finishes), a replacement serves at once, no crash backoff, no request fails', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script));
    const ready = await master.waitFor('master.ready');
    const [victim] = ready.pids as number[];
    const url = await master.url();
    const load = await startLoad(url, { keepalive: 4, fresh: 2 });
    await load.waitForVersion('v1');
    const slow = get(await master.url('/slow?ms=1500'));
    await master.waitForOutput(/slow request started/);

    process.kill(victim!, 'SIGTERM');
    const started = await master.waitFor('drain.started', (e) => e.pid === victim);
    expect([started.reason, started.signal]).toEqual(['signal', 'SIGTERM']);
    const replacement = await master.waitFor('worker.live', (e) => e.pid !== victim);
    expect(replacement.slot).toBe(0);
    // The slow request began before the signal and is answered by the draining worker.
    expect((await slow).status).toBe(200);
    const finished = await master.waitFor('drain.finished', (e) => e.pid === victim);
    expect([finished.code, finished.signal, finished.forced]).toEqual([0, null, undefined]);
    await load.waitForVersion('v1', { minCount: 200 });
    const report = await load.stop();

    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    expect(await getVersion(url)).toBe('v1');
    expect(master.count('worker.exited', (e) => e.pid === victim && e.expected === true)).toBe(1);
    expect(master.count('worker.restart-scheduled')).toBe(0);
    expect(isAlive(replacement.pid as number)).toBe(true);
  });

  it('SIGTERM to the master and every worker at once (KillMode=control-group): a graceful stop, requests in flight finish', async () => {
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--workers', '2'));
    const ready = await master.waitFor('master.ready');
    const pids = ready.pids as number[];
    const slow = Promise.all([get(await master.url('/slow?ms=1000')), get(await master.url('/slow?ms=1000'))]);
    await expect.poll(() => master.output.filter((l) => /slow request started/.test(l)).length).toBe(2);

    for (const pid of [master.pid, ...pids]) process.kill(pid, 'SIGTERM');
    expect((await slow).map((a) => a.status)).toEqual([200, 200]);
    expect(await master.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) {
      const exited = master.events.find((e) => e.event === 'worker.exited' && e.pid === pid);
      expect([exited?.code, exited?.signal]).toEqual([0, null]);
    }
    expect(master.count('drain.finished', (e) => e.forced !== undefined)).toBe(0);
  });

  it('a SIGTERM that reaches a worker just after the master told it to drain is the same request: the drain goes on', async () => {
    // The app reports 100 ms after it stopped listening: the master's drain reached it well before the SIGTERM.
    const script = writeScript(`${appSource('v1')}
let listened = false;
const watch = setInterval(() => {
  if (server.listening) listened = true;
  else if (listened) { setTimeout(() => console.log('stopped listening 100 ms ago'), 100); clearInterval(watch); }
}, 5);
watch.unref();
`);
    const master = startMaster(baseArgs(script));
    const ready = await master.waitFor('master.ready');
    const [old] = ready.pids as number[];
    const slow = get(await master.url('/slow?ms=1000'));
    await master.waitForOutput(/slow request started/);
    writeFileSync(script, appSource('v2'));
    process.kill(master.pid, 'SIGUSR2');
    await master.waitForOutput(/^stopped listening 100 ms ago$/);
    process.kill(old!, 'SIGTERM');
    expect((await slow).status).toBe(200);
    const finished = await master.waitFor('drain.finished', (e) => e.pid === old);
    expect([finished.code, finished.signal, finished.forced]).toEqual([0, null, undefined]);
  });

  it('an app that listens for SIGHUP and SIGTERM itself gets them and is neither killed nor drained', async () => {
    const script = writeScript(`${appSource('v1')}
process.on('SIGHUP', () => console.log('app got SIGHUP'));
process.on('SIGTERM', () => console.log('app got SIGTERM'));
`);
    const master = startMaster(baseArgs(script));
    const ready = await master.waitFor('master.ready');
    const [pid] = ready.pids as number[];
    process.kill(pid!, 'SIGHUP');
    await master.waitForOutput(/^app got SIGHUP$/);
    process.kill(pid!, 'SIGTERM');
    await master.waitForOutput(/^app got SIGTERM$/);
    expect(await getVersion(await master.url())).toBe('v1');
    // A short negative wait: a drain would have said so by now.
    await new Promise((r) => setTimeout(r, 300));
    expect(master.count('drain.started')).toBe(0);
    expect(master.count('worker.exited')).toBe(0);
    expect(isAlive(pid!)).toBe(true);
  });
});
