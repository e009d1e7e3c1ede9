/**
 * `--metrics <address>`: where the master serves Prometheus metrics
 * (src/master/metrics/). TCP only, in the forms `--listen` takes (`9464`,
 * `127.0.0.1:9464`, `[::1]:9464`); off when not given. It must not be one of
 * the app's `--listen` addresses: the master would bind it twice, or a
 * scrape could reach the app (or the app's clients the metrics). The same
 * overlap rules as between two `--listen` values apply (distinct-listen.ts).
 */
import { ConfigError } from '../../errors.js';
import type { ListenAddress } from '../../ipc/address.js';
import { listenConflict } from './distinct-listen.js';
import { parseListenAddress } from './parse-address.js';

export type TcpAddress = Extract<ListenAddress, { kind: 'tcp' }>;

export function parseMetricsAddress(raw: string | undefined, listen: readonly ListenAddress[], given: readonly string[]): TcpAddress | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim().startsWith('unix:')) throw new ConfigError(`--metrics must be PORT, HOST:PORT or [IPv6]:PORT (Prometheus scrapes over TCP), got \`${raw}\``);
  const address = parseListenAddress(raw, '--metrics') as TcpAddress;
  listen.forEach((other, i) => {
    const problem = listenConflict(other, address);
    if (problem) throw new ConfigError(`--metrics \`${raw}\` and --listen \`${given[i]}\` ${problem}: metrics are served on an address of their own`);
  });
  return address;
}
