/**
 * The worker side of self-healing, against a real app process whose master
 * end the test speaks (helpers/fake-master.ts): the heartbeat (stops while the
 * event loop is blocked, carries the counts, never keeps a worker alive),
 * warm standby (stops accepting, ends keep-alive in-band, runs no hook, stays
 * up) followed by `resume` (the same process accepts again, including the
 * connections that waited in the backlog) or by `drain` (hooks, exit), and
 * the hang watchdog's stack line.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../src/ipc/env.js';
import { type FakeMasterRun, forkWithFakeMaster } from '../helpers/fake-master.js';
import { ROOT } from '../helpers/master.js';
import { isAlive, tempDir } from '../helpers/processes.js';

const APP = `${ROOT}test/fixtures/heal-app.cjs`.replace(/^file:\/\//, '');

interface Text {
  readonly body: string;
  readonly connection: string;
}

function fetchText(port: number, path = '/', agent: http.Agent | false = false): Promise<Text> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ body: body.trim(), connection: String(res.headers.connection) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function live(run: FakeMasterRun): Promise<void> {
  await run.ready;
  await run.channel.request({ type: 'activate' }, 5_000);
}

describe('heartbeat', () => {
  it('beats while the loop turns, stops while it is blocked, and carries the counts', async () => {
    const run = await forkWithFakeMaster(APP, { [ENV.heartbeat]: '50' });
    await live(run);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++) await fetchText(run.port, '/', agent);
    await expect.poll(() => run.heartbeats.at(-1)?.message, { timeout: 2_000 }).toMatchObject({ requests: 3, connections: 1 });
    const before = run.heartbeats.length;
    const blocked = await fetchText(run.port, '/block?ms=1000');
    expect(blocked.body).toBe(`pid=${run.pid}`);
    await expect.poll(() => run.heartbeats.length, { timeout: 5_000 }).toBeGreaterThan(before + 3);
    const gaps = run.heartbeats.slice(before - 1).map((h, i, all) => (i === 0 ? 0 : h.at - all[i - 1]!.at));
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(900); // the blocked second: no beat
    agent.destroy();
  });

  it('does not keep a worker alive that has nothing else to do', async () => {
    const script = join(tempDir(), 'idle.cjs');
    writeFileSync(script, 'setTimeout(() => {}, 200);\n');
    const run = await forkWithFakeMaster(script, { [ENV.heartbeat]: '20', [ENV.hangStack]: '100' });
    await expect(run.exited).resolves.toEqual({ code: 0, signal: null });
    expect(run.heartbeats.length).toBeGreaterThan(0);
  });
});

describe('standby and resume', () => {
  it('stops accepting and ends keep-alive in-band without hooks, then the same process accepts again', async () => {
    const run = await forkWithFakeMaster(APP);
    await live(run);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await fetchText(run.port, '/', agent);

    const { value } = await run.channel.request({ type: 'standby' }, 5_000);
    expect(value).toEqual({ listeners: 1 });
    // The kept-alive connection is told in-band to go, on its next response.
    expect(await fetchText(run.port, '/', agent)).toEqual({ body: `pid=${run.pid}`, connection: 'close' });
    // A new connection waits in the backlog: nobody accepts it now.
    const waiting = fetchText(run.port);
    let answered = false;
    void waiting.then(() => (answered = true), () => {});
    await new Promise((resolve) => setTimeout(resolve, 300)); // a short negative claim
    expect(answered).toBe(false);
    expect(isAlive(run.pid)).toBe(true);
    expect(run.lines).not.toContain('shutdown hook');

    await expect(run.channel.request({ type: 'resume' }, 5_000)).resolves.toMatchObject({ value: { listeners: 1 } });
    expect(await waiting).toEqual({ body: `pid=${run.pid}`, connection: 'close' }); // no agent: closes by itself
    expect((await fetchText(run.port, '/', agent)).connection).toBe('keep-alive');
    expect(run.listens).toHaveLength(2); // the first listen(), and the resume's
    agent.destroy();
  });

  it('after standby, drain runs the hooks and exits', async () => {
    const run = await forkWithFakeMaster(APP);
    await live(run);
    await run.channel.request({ type: 'standby' }, 5_000);
    expect(run.lines).not.toContain('shutdown hook');
    await run.channel.send({ type: 'drain', reason: 'upgrade', timeoutMs: 10_000 });
    await run.line(/^shutdown hook$/);
    await expect(run.exited).resolves.toEqual({ code: 0, signal: null });
  });

  it('stands by and resumes again, and refuses standby before it is live', async () => {
    const run = await forkWithFakeMaster(APP);
    await run.ready;
    await expect(run.channel.request({ type: 'standby' }, 5_000)).rejects.toMatchObject({ cause: { code: 'ERR_STANDBY' } });
    await run.channel.request({ type: 'activate' }, 5_000);
    for (let round = 0; round < 2; round++) {
      await run.channel.request({ type: 'standby' }, 5_000);
      await run.channel.request({ type: 'resume' }, 5_000);
      expect((await fetchText(run.port)).body).toBe(`pid=${run.pid}`);
    }
  });
});

describe('hang watchdog (--hang-stack)', () => {
  it('writes where the loop is blocked to stderr, once per hang', async () => {
    const run = await forkWithFakeMaster(APP, { [ENV.heartbeat]: '50', [ENV.hangStack]: '300' });
    await live(run);
    await fetchText(run.port, '/block?ms=1500');
    const line = await run.line(/event loop blocked/);
    expect(line).toMatch(new RegExp(`^overseer: worker ${run.pid} event loop blocked for \\d+ ms at: blockTheLoop \\(.*heal-app\\.cjs:\\d+:\\d+\\)`));
    // The loop turns again afterwards: the process was only paused for the stack.
    await expect.poll(() => fetchText(run.port).then((t) => t.body), { timeout: 5_000 }).toBe(`pid=${run.pid}`);
    expect(run.lines.filter((l) => /event loop blocked/.test(l))).toHaveLength(1);
  });
});
