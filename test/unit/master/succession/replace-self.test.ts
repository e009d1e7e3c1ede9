/**
 * The predecessor's race (replace-self.ts) on fake time, with a fake
 * successor process the test speaks for: which outcome wins, that a failed
 * successor is stopped before the outcome, and that the PID file and control
 * socket are taken back only when the successor had begun to take them.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { SelfUpgradeOutcome } from '../../../../src/ipc/control.js';
import { type ReplaceSelfDeps, type SuccessionSource, type SuccessorPlan, TAKE_OVER_TIMEOUT_MS, replaceSelf } from '../../../../src/master/succession/replace-self.js';
import { SUCCESSION_ENV, SUCCESSION_PROTOCOL, parseSuccessionStart } from '../../../../src/master/succession/protocol.js';
import { FakeClock, flush } from '../../../helpers/fakes.js';

class FakeSuccessor extends EventEmitter {
  pid = 4242;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly signals: string[] = [];
  readonly sent: unknown[] = [];
  connected = true;
  /** Whether it exits when sent SIGTERM. */
  exitsOnTerm = true;
  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (signal === 'SIGKILL' || this.exitsOnTerm) queueMicrotask(() => this.exit(null, signal));
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
  }
  send(message: unknown): boolean {
    this.sent.push(message);
    return true;
  }
  disconnect(): void {
    this.connected = false;
  }
  unref(): void {}
  say(message: unknown): void {
    this.emit('message', message);
  }
  hello(protocol = SUCCESSION_PROTOCOL): void {
    this.say({ type: 'hello', protocol, version: '9.9.9', node: 'v99.0.0', pid: this.pid });
  }
}

function setup(options: { metrics?: boolean; node?: string } = {}) {
  const clock = new FakeClock();
  const child = new FakeSuccessor();
  const plans: SuccessorPlan[] = [];
  const events: Array<[string, unknown]> = [];
  const log: string[] = [];
  const master: SuccessionSource = {
    pid: 100,
    held: { all: [
      { handle: { fd: 11, close() {} }, address: { kind: 'tcp', host: '127.0.0.1', port: 8080 }, key: '127.0.0.1:8080', configured: true, listenIndex: 0 },
      { handle: { fd: 12, close() {} }, address: { kind: 'unix', path: '/run/x.sock' }, key: 'unix:/run/x.sock', configured: false },
    ] } as unknown as SuccessionSource['held'],
    currentGeneration: 7,
    workerSeq: 30,
    slotRestarts: [0, 2],
    lastUpgrade: { ok: false, generation: 7, reason: 'exited-before-ready', message: 'm', durationMs: 5, stderr: ['x'], trigger: 'control', finishedAt: 'now' },
    emit: (event, ...args) => {
      events.push([event, args[0]]);
      return true;
    },
  };
  const deps: ReplaceSelfDeps = {
    entry: '/opt/overseer/bin/overseer.js',
    args: ['start', 'app.js', '--listen', '127.0.0.1:0'],
    execArgv: ['--max-old-space-size=100'],
    defaultNode: '/usr/bin/node',
    cwd: '/srv/app',
    env: { HOME: '/root' },
    notifySocket: '/run/systemd/notify',
    metrics: options.metrics
      ? { fd: 13, snapshot: async () => { log.push('snapshot'); return [{ name: 'overseer_requests_total', values: [{ labels: {}, value: 5 }] }]; }, close: async () => void log.push('metrics closed') }
      : undefined,
    readyTimeoutMs: 3000,
    killTimeoutMs: 1000,
    clock,
    spawn: (plan) => {
      plans.push(plan);
      return child as unknown as ChildProcess;
    },
    reassert: async () => void log.push('reassert'),
    untrustedNode: (node) => (node.startsWith('/tmp/') ? `--node ${node}: writable by others` : undefined),
  };
  const controller = new AbortController();
  let outcome: SelfUpgradeOutcome | undefined;
  const running = replaceSelf(master, options.node === undefined ? {} : { node: options.node }, deps, controller.signal).then((o) => (outcome = o));
  return { clock, child, plans, events, log, controller, running, get outcome() { return outcome; } };
}

describe('replaceSelf', () => {
  it('spawns the successor with the sockets as descriptors and the state in the environment', async () => {
    const s = setup({ metrics: true });
    const [plan] = s.plans;
    expect(plan).toMatchObject({ node: '/usr/bin/node', args: ['--max-old-space-size=100', '/opt/overseer/bin/overseer.js', 'start', 'app.js', '--listen', '127.0.0.1:0'], cwd: '/srv/app', fds: [11, 12, 13] });
    const start = parseSuccessionStart(plan!.env[SUCCESSION_ENV]!);
    expect(start).toMatchObject({
      predecessorPid: 100, generation: 7, workerSeq: 30, restarts: [0, 2], metricsFd: 5, notifySocket: '/run/systemd/notify',
      listeners: [{ fd: 3, configured: true, listenIndex: 0, boundByMaster: true }, { fd: 4, configured: false, boundByMaster: true }],
    });
    expect(start.lastUpgrade).not.toHaveProperty('stderr'); // bounded: the failed worker's lines stay behind
    expect(plan!.env.HOME).toBe('/root');
    s.controller.abort();
    await s.running;
  });

  it('resolves ok once the successor took over, after sending the counts with its metrics endpoint closed', async () => {
    const s = setup({ metrics: true });
    s.child.hello();
    s.child.say({ type: 'held', generation: 8 });
    await flush();
    expect(s.log).toEqual(['snapshot', 'metrics closed']);
    expect(s.child.sent).toEqual([{ type: 'take-over', state: { metrics: [{ name: 'overseer_requests_total', values: [{ labels: {}, value: 5 }] }] } }]);
    expect(s.outcome).toBeUndefined();
    s.child.say({ type: 'took-over', generation: 8, controlPath: '/run/c.sock' });
    await s.running;
    expect(s.outcome).toMatchObject({ ok: true, pid: 4242, previousPid: 100, generation: 8, version: '9.9.9', node: 'v99.0.0' });
    expect(s.child.signals).toEqual([]);
    expect(s.child.connected).toBe(false);
    expect(s.events.map(([e]) => e)).toEqual(['succession.started', 'succession.held', 'succession.handed-over']);
    // Later exits of the successor are its own business.
    s.child.exit(1, null);
    expect(s.log).not.toContain('reassert');
  });

  it('fails as ready-timeout when the successor is not held ready in time, and stops it first', async () => {
    const s = setup();
    s.child.hello();
    s.clock.advance(2999);
    await flush();
    expect(s.outcome).toBeUndefined();
    s.clock.advance(1);
    await s.running;
    expect(s.child.signals).toEqual(['SIGTERM']);
    expect(s.outcome).toMatchObject({ ok: false, reason: 'ready-timeout', successorPid: 4242 });
    expect(s.log).toEqual([]); // it had taken nothing
    expect(s.events.at(-1)?.[0]).toBe('succession.failed');
  });

  it('kills a successor that does not stop on SIGTERM within the kill timeout', async () => {
    const s = setup();
    s.child.exitsOnTerm = false;
    s.clock.advance(3000);
    await flush();
    expect(s.child.signals).toEqual(['SIGTERM']);
    expect(s.outcome).toBeUndefined();
    s.clock.advance(1000);
    await s.running;
    expect(s.child.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(s.outcome).toMatchObject({ ok: false, reason: 'ready-timeout' });
  });

  it('refuses a successor of another protocol version', async () => {
    const s = setup();
    s.child.hello(SUCCESSION_PROTOCOL + 1);
    await s.running;
    expect(s.outcome).toMatchObject({ ok: false, reason: 'protocol' });
    expect(s.outcome!.ok === false && s.outcome!.message).toContain(`speaks succession protocol ${SUCCESSION_PROTOCOL + 1}`);
  });

  it('reports a successor that exits, with its code', async () => {
    const s = setup();
    s.child.exit(2, null);
    await s.running;
    expect(s.outcome).toMatchObject({ ok: false, reason: 'exited' });
    expect(s.outcome!.ok === false && s.outcome!.message).toContain('code 2');
  });

  it('takes the PID file and control socket back when the successor dies during the take-over', async () => {
    const s = setup();
    s.child.hello();
    s.child.say({ type: 'held', generation: 8 });
    await flush();
    s.child.exit(null, 'SIGSEGV');
    await s.running;
    expect(s.outcome).toMatchObject({ ok: false, reason: 'exited' });
    expect(s.log).toEqual(['reassert']);
  });

  it('gives the take-over its own deadline once the successor is ready', async () => {
    const s = setup();
    s.child.hello();
    s.clock.advance(2500);
    s.child.say({ type: 'held', generation: 8 });
    await flush();
    s.clock.advance(TAKE_OVER_TIMEOUT_MS - 1);
    await flush();
    expect(s.outcome).toBeUndefined();
    s.clock.advance(1);
    await s.running;
    expect(s.outcome).toMatchObject({ ok: false, reason: 'ready-timeout' });
    expect(s.log).toEqual(['reassert']);
  });

  it('treats messages out of order as a broken successor', async () => {
    const s = setup();
    s.child.say({ type: 'held', generation: 8 });
    await s.running;
    expect(s.outcome).toMatchObject({ ok: false, reason: 'broken' });
  });

  it('refuses to run a --node binary others could have replaced, without spawning anything', async () => {
    const s = setup({ node: '/tmp/evil/node' });
    await s.running;
    expect(s.plans).toEqual([]);
    expect(s.outcome).toMatchObject({ ok: false, reason: 'spawn-failed', message: '--node /tmp/evil/node: writable by others' });
    const ok = setup({ node: '/opt/node-24/bin/node' });
    expect(ok.plans[0]?.node).toBe('/opt/node-24/bin/node');
    ok.controller.abort();
    await ok.running;
  });

  it('stops the successor when the master stops meanwhile, and takes nothing back (the master is going)', async () => {
    const s = setup();
    s.child.hello();
    s.child.say({ type: 'held', generation: 8 });
    await flush();
    s.controller.abort();
    await s.running;
    expect(s.child.signals).toEqual(['SIGTERM']);
    expect(s.outcome).toMatchObject({ ok: false, reason: 'stopping' });
    expect(s.log).toEqual([]);
  });
});
