/**
 * Starts `bin/overseer.js start …` as a real process and follows its JSON log
 * events on stdout. Every master and worker pid it sees is tracked for
 * cleanup. Waiting is on events, with a deadline, never on sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { track } from './processes.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${ROOT}bin/overseer.js`;

export interface LogEvent {
  event: string;
  pid?: number;
  masterPid?: number;
  [key: string]: unknown;
}

export interface MasterRun {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly events: LogEvent[];
  /** Lines on stdout that are not master events (the apps' own output). */
  readonly output: string[];
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first event named `name` (from index `after`) matching `match`. */
  waitFor(name: string, match?: (e: LogEvent) => boolean, options?: { after?: number; timeoutMs?: number }): Promise<LogEvent>;
  count(name: string, match?: (e: LogEvent) => boolean): number;
  /**
   * The next `upgrade.succeeded` (from index `after`), once every worker of
   * older generations has exited: until then an old worker may still accept
   * (it is told to drain just after the new generation goes live).
   */
  upgraded(after?: number): Promise<LogEvent>;
  /** Resolves when the apps have printed a line matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The port of the first TCP listener (from master.started). */
  port(): Promise<number>;
  url(path?: string): Promise<string>;
}

export function startMaster(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): MasterRun {
  const proc = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc.pid);
  const events: LogEvent[] = [];
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const run: MasterRun = {
    proc,
    pid: proc.pid!,
    events,
    output,
    stderr: '',
    exited: once(proc, 'exit').then(([code, signal]) => ({ code, signal })) as MasterRun['exited'],
    waitFor(name, match = () => true, { after = 0, timeoutMs = 20_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(after).find((e) => e.event === name && match(e));
          if (found) {
            done();
            resolve(found);
          }
          return found;
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no '${name}' event within ${timeoutMs} ms; saw: ${events.map((e) => e.event).join(', ')}\nstderr: ${run.stderr.slice(-2000)}`));
        }, timeoutMs);
        const onExit = () => {
          if (check()) return;
          done();
          reject(new Error(`master exited before '${name}'; saw: ${events.map((e) => e.event).join(', ')}\nstderr: ${run.stderr.slice(-2000)}`));
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          proc.off('exit', onExit);
        };
        if (check()) return;
        waiters.add(check);
        proc.once('exit', onExit);
      });
    },
    count(name, match = () => true) {
      return events.filter((e) => e.event === name && match(e)).length;
    },
    async upgraded(after = 0) {
      const done = await run.waitFor('upgrade.succeeded', undefined, { after });
      const older = events.filter((e) => e.event === 'worker.spawned' && (e.generation as number) < (done.generation as number));
      for (const worker of older) await run.waitFor('worker.exited', (e) => e.workerId === worker.workerId);
      return done;
    },
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = output.find((l) => pattern.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(line);
          }
          return line;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; output: ${output.slice(-20).join('\n')}`));
        }, timeoutMs);
        if (check() === undefined) waiters.add(check);
      });
    },
    async port() {
      const started = await run.waitFor('master.started');
      const tcp = (started.listeners as Array<{ kind: string; port: number }>).find((l) => l.kind === 'tcp');
      if (!tcp) throw new Error('master has no TCP listener');
      return tcp.port;
    },
    async url(path = '/') {
      return `http://127.0.0.1:${await run.port()}${path}`;
    },
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let parsed: LogEvent | undefined;
    if (line.startsWith('{')) {
      try {
        parsed = JSON.parse(line) as LogEvent;
      } catch {
        parsed = undefined;
      }
    }
    if (!parsed || typeof parsed.event !== 'string') {
      output.push(line);
      for (const waiter of [...waiters]) waiter();
      return;
    }
    if (parsed.event === 'worker.spawned') track(parsed.pid);
    events.push(parsed);
    for (const waiter of [...waiters]) waiter();
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
  });
  return run;
}

/** The usual arguments: JSON logs on an ephemeral loopback port. */
export function baseArgs(script: string, ...extra: string[]): string[] {
  return ['start', script, '--listen', '127.0.0.1:0', '--log-format', 'json', ...extra];
}
