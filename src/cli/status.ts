/** `overseer status`: what the master is running now. Exit 2 when no master answers. */
import { type TextOutput, stdout } from './output.js';
import type { MasterStatus, WorkerStatus } from '../ipc/control.js';
import { type OptionsOf, parseTimeout } from './client-options.js';
import { connectToMaster, locate } from './find-master.js';

export async function runStatus(options: OptionsOf<'status'>, out: TextOutput = stdout): Promise<number> {
  const timeoutMs = parseTimeout(options.timeout) ?? 10_000;
  const connection = await connectToMaster(locate(options));
  try {
    const status = await connection.next(connection.send('status'), timeoutMs);
    out.write(options.json ? `${JSON.stringify(status)}\n` : describeStatus(status));
    return 0;
  } finally {
    connection.close();
  }
}

const mb = (bytes: number | null) => (bytes === null ? '?' : `${(bytes / 1048576).toFixed(1)} MB`);

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

function worker(w: WorkerStatus, limit: string): string {
  return `  worker ${w.workerId}  pid ${w.pid ?? '-'}  gen ${w.generation}  ${w.state}  up ${duration(w.uptimeMs)}  restarts ${w.restarts}  rss ${mb(w.rssBytes)}${limit}`;
}

export function describeStatus(s: MasterStatus): string {
  const limit = s.maxMemoryBytes === null ? '' : ` / ${mb(s.maxMemoryBytes)} limit`;
  const row = (w: WorkerStatus) => worker(w, limit);
  const lines = [
    `${s.name}: master pid ${s.pid} (overseer ${s.version}), ${s.state} for ${duration(s.uptimeMs)}, rss ${mb(s.rssBytes)}`,
    `listening on ${s.listeners.join(', ') || '(nothing yet)'}`,
    `generation ${s.generation ?? '-'}: ${s.workers.length} worker${s.workers.length === 1 ? '' : 's'}`,
    ...s.workers.map(row),
  ];
  if (s.starting.length > 0) lines.push(`starting (upgrade in progress):`, ...s.starting.map(row));
  if (s.draining.length > 0) lines.push('draining:', ...s.draining.map(row));
  const last = s.lastUpgrade;
  if (!last) lines.push('last upgrade: none');
  else if (last.ok) lines.push(`last upgrade: generation ${last.generation} live after ${last.durationMs} ms (${last.trigger}, ${last.finishedAt})`);
  else lines.push(`last upgrade: ${last.generation === undefined ? '' : `generation ${last.generation} `}failed: ${last.reason}: ${last.message} (${last.trigger}, ${last.finishedAt})`);
  return `${lines.join('\n')}\n`;
}
