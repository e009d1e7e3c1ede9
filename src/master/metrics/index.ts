/**
 * `--metrics`: record the master's numbers (record.ts) and serve them
 * (server.ts). Loaded by start.ts only when `--metrics` is given, so a master
 * without it does not load prom-client.
 */
import { readRss } from '../health/rss.js';
import type { Master } from '../master.js';
import type { TcpAddress } from '../options/metrics-address.js';
import type { CarriedSeries } from '../succession/protocol.js';
import { carryInto, snapshotSeries } from './carry.js';
import { recordMetrics } from './record.js';
import { type MetricsServer, serveMetrics } from './server.js';

export interface MasterMetrics {
  /** Serve at the address, or on a listening socket a predecessor passed (`fd`). */
  serve(at: TcpAddress | { readonly fd: number }): Promise<MetricsServer>;
  /** The counters and histograms as they stand, for a successor (metrics/carry.ts). */
  snapshot(): Promise<CarriedSeries[]>;
  /** Add a predecessor's counts to ours. */
  carry(carried: readonly CarriedSeries[]): void;
}

/** Subscribes to `master` at once: call it before `master.start()`. */
export function recordMasterMetrics(master: Master): MasterMetrics {
  const series = recordMetrics(master, readRss);
  return {
    serve: (at) => serveMetrics(series, at),
    snapshot: () => snapshotSeries(series),
    carry: (carried) => carryInto(series, carried),
  };
}
