/**
 * Runs bench/h2-load-client.mjs: `sessions` connections, each carrying
 * `streams` concurrent request loops, reusing its session until GOAWAY.
 */
import { type LoadRun, forkLoadClient } from './load.js';

export interface H2LoadReport {
  total: number;
  ok: number;
  failed: number;
  /** Streams the server refused (never processed), retried on a new session. */
  refused: number;
  sessionsOpened: number;
  /** Sessions that received a GOAWAY. */
  goaways: number;
  failuresByKind: Record<string, number>;
  sessionErrors: Record<string, number>;
  versions: Record<string, number>;
  /** `…At`: epoch ms, comparable with the master's log `time`. */
  versionSpans: Record<string, { firstMs: number; lastMs: number; firstAt: number; lastAt: number }>;
  errors: Array<{ atMs: number; kind: string; message: string }>;
  durationMs: number;
}

export function startH2Load(url: string, options: { sessions?: number; streams?: number; durationMs?: number } = {}): Promise<LoadRun<H2LoadReport>> {
  return forkLoadClient<H2LoadReport>('bench/h2-load-client.mjs', [
    '--url', url,
    '--sessions', String(options.sessions ?? 4),
    '--streams', String(options.streams ?? 8),
    '--duration-ms', String(options.durationMs ?? 60_000),
  ]);
}
