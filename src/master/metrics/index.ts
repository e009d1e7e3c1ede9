/**
 * `--metrics`: record the master's numbers (record.ts) and serve them
 * (server.ts). Loaded by start.ts only when `--metrics` is given, so a master
 * without it does not load prom-client.
 */
import { readRss } from '../health/rss.js';
import type { Master } from '../master.js';
import type { TcpAddress } from '../options/metrics-address.js';
import { recordMetrics } from './record.js';
import { type MetricsServer, serveMetrics } from './server.js';

/** Subscribes to `master` at once (call it before `master.start()`); resolves once the endpoint listens. */
export function startMetrics(master: Master, at: TcpAddress): Promise<MetricsServer> {
  return serveMetrics(recordMetrics(master, readRss), at);
}
