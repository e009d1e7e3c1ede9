/**
 * Runs bench/load-client.mjs (HTTP/1.1) or bench/h2-load-client.mjs (HTTP/2)
 * in its own process: each accounts for every request it sends (status,
 * error kind, which version answered).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { ROOT } from './master.js';
import { track } from './processes.js';

export interface LoadReport {
  total: number;
  ok: number;
  failed: number;
  failuresByKind: Record<string, number>;
  byLoop: Record<'keepalive' | 'fresh', { total: number; failed: number }>;
  versions: Record<string, number>;
  versionSpans: Record<string, { firstMs: number; lastMs: number }>;
  errors: Array<{ atMs: number; loop: string; kind: string; message: string }>;
  durationMs: number;
}

export interface Snapshot {
  total: number;
  ok: number;
  failed: number;
  versions: Record<string, number>;
  elapsedMs: number;
}

export interface LoadRun<R = LoadReport> {
  readonly proc: ChildProcess;
  snapshot(): Promise<Snapshot>;
  /** Stop sending, await every in-flight request, return the report. */
  stop(): Promise<R>;
  /** Resolves when the client has sent at least `n` more OK responses of `version`. */
  waitForVersion(version: string, options?: { minCount?: number; timeoutMs?: number }): Promise<void>;
}

export function startLoad(
  url: string,
  options: { keepalive?: number; fresh?: number; durationMs?: number; launcher?: readonly string[] } = {},
): Promise<LoadRun> {
  return forkLoadClient<LoadReport>('bench/load-client.mjs', [
    '--url', url,
    '--keepalive', String(options.keepalive ?? 4),
    '--fresh', String(options.fresh ?? 2),
    '--duration-ms', String(options.durationMs ?? 60_000),
  ], options.launcher);
}

/**
 * Fork one of bench/'s load clients (they share the IPC contract) and follow
 * it. `launcher`: a program that execs node in place, keeping the IPC
 * channel's descriptor (e.g. `nsenter -t <pid> -n --`, into a container's
 * network); the pid tracked is then node's.
 */
export async function forkLoadClient<R>(script: string, args: readonly string[], launcher: readonly string[] = []): Promise<LoadRun<R>> {
  const via = launcher.length === 0 ? {} : { execPath: launcher[0]!, execArgv: [...launcher.slice(1), process.execPath] };
  const proc = fork(`${ROOT}${script}`, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...via });
  track(proc.pid);
  const report = new Promise<R>((resolve, reject) => {
    proc.on('message', (m: { type: string; report?: R }) => {
      if (m.type === 'report') resolve(m.report!);
    });
    proc.once('exit', (code) => reject(new Error(`load client exited (${code}) without a report`)));
  });
  report.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    proc.on('message', (m: { type: string }) => m.type === 'started' && resolve());
    proc.once('exit', (code) => reject(new Error(`load client exited (${code}) before starting`)));
  });
  const run: LoadRun<R> = {
    proc,
    snapshot() {
      return new Promise<Snapshot>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error('no snapshot from the load client within 10 s')), 10_000);
        const onMessage = (m: { type: string; snapshot?: Snapshot }) => {
          if (m.type === 'snapshot') done(undefined, m.snapshot);
        };
        const done = (error?: Error, snapshot?: Snapshot) => {
          clearTimeout(timer);
          proc.off('message', onMessage);
          if (error) reject(error);
          else resolve(snapshot!);
        };
        proc.on('message', onMessage);
        proc.send({ type: 'snapshot' });
      });
    },
    async stop() {
      if (proc.connected) proc.send({ type: 'stop' });
      return report;
    },
    async waitForVersion(version, { minCount = 20, timeoutMs = 20_000 } = {}) {
      const start = (await run.snapshot()).versions[version] ?? 0;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const snap = await run.snapshot();
        if ((snap.versions[version] ?? 0) - start >= minCount) return;
        if (Date.now() > deadline) throw new Error(`version ${version} not seen ${minCount} more times: ${JSON.stringify(snap)}`);
        await new Promise((r) => setTimeout(r, 25)); // polling interval between snapshots, not a synchronisation
      }
    },
  };
  return run;
}
