/**
 * Starts `bin/overseer.js start …` as a real process and follows its JSON log
 * events on stdout. Every master and worker pid it sees is tracked for
 * cleanup. Waiting is on events, with a deadline, never on sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { tempDir, track } from './processes.js';

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
  /** The master's log lines: JSON objects with `event` and `masterPid` (the relay never passes an app line that has `masterPid`). */
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
  /**
   * This master's own $XDG_RUNTIME_DIR (a temp dir), so its default control
   * socket never meets another test's.
   */
  readonly runtimeDir: string;
  /** Run `overseer <args>` (upgrade, status, stop…) in this master's environment. */
  cli(args: readonly string[], options?: { timeoutMs?: number }): Promise<CliResult>;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `overseer <args>` to completion (async, so the caller's event loop keeps reading logs). */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; bin?: string } = {}): Promise<CliResult> {
  const proc = spawn(process.execPath, [options.bin ?? BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc.pid);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return once(proc, 'close').then(([code]) => {
    clearTimeout(timer);
    return { code: code as number | null, stdout, stderr };
  });
}

/**
 * `launcher`: a command that runs `node bin/overseer.js <args>` itself (its
 * arguments are followed by node's path, the bin and `args`), e.g. a fixture
 * that passes sockets the way systemd does; `pid` is then the launcher's.
 * `bin`: another overseer executable than this checkout's (a copy that other
 * users can read: other-users.ts); `cli()` uses it too. `node`: the Node.js
 * binary the master runs on (default: this one).
 *
 * `overseer upgrade --self`: the successor master writes to the same stdout,
 * so its events arrive here too (with its own `masterPid`), and it is
 * tracked for cleanup from `succession.started`. Once a successor has taken
 * over, the first master's exit no longer ends the waits.
 */
export function startMaster(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; launcher?: readonly string[]; bin?: string; node?: string } = {},
): MasterRun {
  const runtimeDir = options.env?.XDG_RUNTIME_DIR ?? tempDir('overseer-run-');
  const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, ...options.env };
  const [command, ...prefix] = [...(options.launcher ?? []), options.node ?? process.execPath];
  const proc = spawn(command!, [...prefix, options.bin ?? BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc.pid);
  const events: LogEvent[] = [];
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const run: MasterRun = {
    runtimeDir,
    cli: (cliArgs, cliOptions = {}) => runCli(cliArgs, { cwd: options.cwd ?? ROOT, env, bin: options.bin, ...cliOptions }),
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
          if (events.some((e) => e.event === 'succession.handed-over')) return; // the successor goes on

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
    if (!parsed || typeof parsed.event !== 'string' || typeof parsed.masterPid !== 'number') {
      output.push(line);
      for (const waiter of [...waiters]) waiter();
      return;
    }
    if (parsed.event === 'worker.spawned') track(parsed.pid);
    if (parsed.event === 'succession.started') track(parsed.successorPid as number);
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
