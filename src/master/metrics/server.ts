/**
 * The metrics endpoint: `GET /metrics` on the `--metrics` address, in the
 * Prometheus text format. This is the one listener the master accepts
 * connections on itself, and only when `--metrics` is given: it is its own,
 * never one of the app's addresses (options/metrics-address.ts), and it
 * serves nothing but the master's numbers, so the master stays out of the
 * app's data path. Scrapers are small and few: requests are capped in size
 * and time, and every connection is closed when the master stops.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListenError } from '../../errors.js';
import type { TcpAddress } from '../options/metrics-address.js';
import type { Series } from './series.js';

export interface MetricsServer {
  /** Where it listens (the real port, when `--metrics` asked for port 0). */
  readonly address: { readonly host: string; readonly port: number };
  /** The listening socket's descriptor (passed to a successor master); undefined where Node does not tell. */
  readonly fd: number | undefined;
  close(): Promise<void>;
}

/** A scrape that has not sent its request by then is dropped. */
const REQUEST_TIMEOUT_MS = 10_000;

/** `at`: the `--metrics` address, or a listening socket a predecessor master passed. */
export async function serveMetrics(series: Series, at: TcpAddress | { readonly fd: number }): Promise<MetricsServer> {
  const server = createServer({ maxHeaderSize: 8192, requestTimeout: REQUEST_TIMEOUT_MS }, (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    series.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': series.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot collect metrics: ${(error as Error).message}\n`),
    );
  });
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    const where = 'fd' in at ? `fd ${at.fd} (passed by the predecessor master)` : `${at.host ?? '*'}:${at.port}`;
    server.once('error', (error) => reject(new ListenError(`cannot serve --metrics on ${where}: ${error.message}`, { cause: error })));
    server.listen('fd' in at ? { fd: at.fd } : { host: at.host, port: at.port }, () => resolve());
  });
  server.unref(); // the master lives until it has stopped (start.ts), not for its scrapers
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    fd: (server as unknown as { _handle?: { fd?: number } })._handle?.fd,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
