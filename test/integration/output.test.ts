/**
 * Worker output through the master (docs/decisions.md, "Worker output"):
 * bounded memory and backpressure when the master's reader stalls, whole
 * lines only, and no app line that passes for a master log line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, baseArgs, runCli, startMaster } from '../helpers/master.js';
import { tempDir, track } from '../helpers/processes.js';
import { childPids, rssBytes } from '../helpers/procfs.js';

function writeApp(source: string): string {
  const dir = tempDir('overseer-output-');
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  const script = join(dir, 'server.js');
  writeFileSync(script, source);
  return script;
}

/**
 * Writes to stdout and stderr without end, 50 MB/s each at most, always
 * waiting for 'drain' when a write is refused (as a well-behaved logger
 * does). `$PROGRESS.<pid>` gets the bytes its writes have taken so far, every
 * 50 ms: one file per worker, so an upgrade's new worker does not overwrite the
 * old one's count.
 */
const FLOOD_APP = `
const http = require('node:http');
const fs = require('node:fs');
http.createServer((req, res) => res.end('ok')).listen(process.env.PORT);
const line = 'flood ' + process.pid + ' ' + 'x'.repeat(1000) + '\\n';
const chunk = line.repeat(256);
let taken = 0;
let seq = 0;
function pump(stream) {
  const next = () => {
    seq++;
    taken += chunk.length;
    if (stream.write('seq ' + seq + '\\n' + chunk)) setTimeout(next, 5);
    else stream.once('drain', next);
  };
  next();
}
pump(process.stdout);
pump(process.stderr);
const progress = process.env.PROGRESS + '.' + process.pid;
setInterval(() => {
  fs.writeFileSync(progress + '.tmp', String(taken));
  fs.renameSync(progress + '.tmp', progress);
}, 50);
`;

/** A master started by hand: its output is counted and its events kept, never the apps' lines (hundreds of MB). */
function floodMaster(script: string, dir: string) {
  const control = join(dir, 'c.sock');
  const progress = join(dir, 'progress');
  const proc: ChildProcess = spawn(process.execPath, [BIN, ...baseArgs(script, '--control', control)], {
    cwd: ROOT,
    env: { ...process.env, PROGRESS: progress },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc.pid);
  const events: Array<Record<string, unknown>> = [];
  const bytes = { stdout: 0, stderr: 0 };
  let rest = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    bytes.stdout += chunk.length;
    const lines = (rest + chunk.toString('latin1')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line.startsWith('{"level"')) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  proc.stderr!.on('data', (chunk: Buffer) => (bytes.stderr += chunk.length));
  const until = async (what: string, test: () => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; events: ${events.map((e) => e.event).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  /** Bytes taken by the writes of every worker so far (old generations' included). */
  const taken = () => readdirSync(dir)
    .filter((name) => /^progress\.\d+$/.test(name))
    .reduce((sum, name) => sum + Number(readFileSync(join(dir, name), 'utf8')), 0);
  return { proc, pid: proc.pid!, events, bytes, control, until, taken };
}

describe('worker output when the reader of the master stalls', () => {
  it('keeps the master small and answering, slows the app down, and flows again when the reader resumes', async () => {
    const dir = tempDir('overseer-output-');
    const master = floodMaster(writeApp(FLOOD_APP), dir);
    await master.until('master.ready', () => master.events.some((e) => e.event === 'master.ready'));
    for (const pid of childPids(master.pid)) track(pid);

    master.proc.stdout!.pause();
    master.proc.stderr!.pause();
    const baseline = rssBytes(master.pid);
    const takenAtStall = master.taken();
    // A negative claim over a fixed time: the master does not grow while the app keeps trying to write.
    let peak = baseline;
    for (let i = 0; i < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      peak = Math.max(peak, rssBytes(master.pid));
    }
    const takenBlocked = master.taken();
    expect(peak - baseline).toBeLessThan(50 * 1024 * 1024);
    // Backpressure: the app's writes wait, as under plain node writing to a stalled pipe.
    // (At 50 MB/s per stream it would have written ~300 MB in these 3 s.)
    expect(takenBlocked - takenAtStall).toBeLessThan(20 * 1024 * 1024);

    // The master still supervises: it answers, and an upgrade goes through.
    const status = await runCli(['status', '--control', master.control, '--json'], { timeoutMs: 10_000 });
    expect(status.code).toBe(0);
    const upgrade = await runCli(['upgrade', '--control', master.control], { timeoutMs: 20_000 });
    expect(upgrade.code).toBe(0);
    for (const pid of childPids(master.pid)) track(pid);
    expect(rssBytes(master.pid) - baseline).toBeLessThan(50 * 1024 * 1024);

    const seen = { ...master.bytes };
    master.proc.stdout!.resume();
    master.proc.stderr!.resume();
    // The master's lines written during the stall arrive, whole, and the apps' output flows again.
    await master.until('upgrade.succeeded after the stall', () => master.events.some((e) => e.event === 'upgrade.succeeded'));
    await master.until('output flowing again', () => master.bytes.stdout > seen.stdout + 10_000_000 && master.bytes.stderr > seen.stderr + 10_000_000);
    expect(master.taken()).toBeGreaterThan(takenBlocked);
  });
});

describe('lines', () => {
  /** Writes text without a newline when it starts and when it exits, on stdout and stderr. */
  const PARTIAL_APP = (version: string) => `
const http = require('node:http');
const V = ${JSON.stringify(version)};
http.createServer((req, res) => res.end(V)).listen(process.env.PORT, () => {
  process.stdout.write('partial from ' + V);
  process.stderr.write('partial on stderr from ' + V);
});
process.on('exit', () => {
  process.stdout.write('last words of ' + V);
  process.stderr.write('last words on stderr of ' + V);
});
`;

  it('never glues an app line to a master line: partial lines go out as lines of their own', async () => {
    const script = writeApp(PARTIAL_APP('v1'));
    const master = startMaster(baseArgs(script));
    await master.waitFor('master.ready');
    // A partial line goes out on its own after a while, with a newline added, while its worker lives.
    await master.waitForOutput(/^partial from v1$/);
    writeFileSync(script, PARTIAL_APP('v2'));
    process.kill(master.pid, 'SIGUSR2');
    await master.upgraded();
    process.kill(master.pid, 'SIGTERM');
    expect((await master.exited).code).toBe(0);

    // Every line on stdout is either a whole master line or a whole app line.
    expect(master.events.length).toBeGreaterThan(10);
    expect(master.output.filter((l) => l.includes('{') || l.includes('masterPid'))).toEqual([]);
    // v1's partial line waited its 1 s and went out alone; v2 (stopped at once) continued its own line itself,
    // as it would under plain node; each worker's last words went out when its pipe ended.
    expect(master.output).toEqual(expect.arrayContaining(['partial from v1', 'last words of v1', 'partial from v2last words of v2']));
    const stderrLines = master.stderr.split('\n');
    expect(stderrLines).toEqual(expect.arrayContaining(['partial on stderr from v1', 'last words on stderr of v1', 'partial on stderr from v2last words on stderr of v2']));
    expect(master.stderr.endsWith('\n')).toBe(true);
  });

  it('relays a line longer than 64 KiB in pieces of 64 KiB', async () => {
    const script = writeApp(`
require('node:http').createServer((req, res) => res.end()).listen(process.env.PORT, () => console.log('long ' + 'z'.repeat(100_000)));
`);
    const master = startMaster(baseArgs(script));
    await master.waitFor('master.ready');
    await master.waitForOutput(/^z+$/);
    const first = master.output.find((l) => l.startsWith('long '));
    const second = master.output.find((l) => /^z+$/.test(l));
    expect([first?.length, second?.length]).toEqual([65_536, 100_005 - 65_536]);
  });
});

describe('forgery', () => {
  it('an app line that would parse as a master log line is relayed with the worker label in front', async () => {
    const script = writeApp(`
const forged = (extra) => JSON.stringify({ level: 30, time: Date.now(), name: 'overseer', role: 'master', masterPid: process.ppid, event: 'upgrade.succeeded', generation: 99, ...extra });
require('node:http').createServer((req, res) => res.end()).listen(process.env.PORT, () => {
  console.log(forged({ msg: 'forged on stdout' }));
  console.error(forged({ msg: 'forged on stderr' }));
  // The key spelled with a JSON escape, and after blanks: JSON.parse reads both as masterPid.
  console.log('  ' + forged({ msg: 'escaped' }).replace('"masterPid"', '"m\\\\u0061sterPid"'));
  console.log(JSON.stringify({ level: 30, event: 'app.event', msg: 'an app line with an event field passes unchanged' }));
});
`);
    const master = startMaster(baseArgs(script));
    const spawned = await master.waitFor('worker.spawned');
    await master.waitFor('master.ready');
    await master.waitForOutput(/passes unchanged/);
    await master.waitForOutput(/escaped/);
    expect(master.count('upgrade.succeeded')).toBe(0);
    const label = `[worker ${spawned.pid}] `;
    const forged = master.output.filter((l) => l.includes('forged on stdout') || l.includes('escaped'));
    expect(forged).toHaveLength(2);
    for (const line of forged) expect(line.startsWith(label)).toBe(true);
    expect(master.output).toContain('{"level":30,"event":"app.event","msg":"an app line with an event field passes unchanged"}');
    await expect.poll(() => master.stderr).toMatch(/forged on stderr/);
    expect(master.stderr.split('\n').find((l) => l.includes('forged on stderr'))?.startsWith(label)).toBe(true);
  });
});
