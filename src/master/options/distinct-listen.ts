/**
 * Two `--listen` values that name one listener are refused up front. The
 * master hands a worker's `listen(port)` the socket it holds *for that port*
 * (listeners.ts `acquire`, `sameListener`), so two addresses with one port
 * are ambiguous unless the kernel keeps them apart and the app can name each:
 * distinct IP literals (`127.0.0.1:3000` and `[::1]:3000`). A wildcard
 * (`3000`, `*:3000`, `0.0.0.0:3000`) overlaps every host on its port, and a
 * host name (`localhost`) may resolve to the other address, so both are
 * refused beside another address with the same port. Port 0 asks for a fresh
 * port each time, so it never repeats. Unix paths are compared after
 * resolution against the working directory (`./a.sock` is `a.sock`).
 */
import { ConfigError } from '../../errors.js';
import { type ListenAddress, isWildcardHost } from '../../ipc/address.js';
import { isIP } from './parse-address.js';

/** One spelling per IP address (`[0:0::1]` is `[::1]`); undefined for a wildcard or a host name. */
function canonicalIp(host: string | undefined): string | undefined {
  if (isWildcardHost(host) || isIP(host!) === 0) return undefined;
  return isIP(host!) === 6 ? new URL(`http://[${host}]/`).hostname : host;
}

/**
 * Throws a ConfigError naming both values when two addresses (`addresses[i]`
 * parsed from `given[i]`) would be one listener, or one port the master
 * could not tell apart.
 */
export function checkDistinctListen(addresses: readonly ListenAddress[], given: readonly string[]): void {
  for (let i = 0; i < addresses.length; i++) {
    for (let j = 0; j < i; j++) {
      const problem = listenConflict(addresses[j]!, addresses[i]!);
      if (problem) throw new ConfigError(`--listen \`${given[j]}\` and \`${given[i]}\` ${problem}`);
    }
  }
}

/** Why two addresses would be one listener (or one port the master cannot tell apart); undefined when they are distinct. */
export function listenConflict(a: ListenAddress, b: ListenAddress): string | undefined {
  if (a.kind === 'unix' && b.kind === 'unix') return a.path === b.path ? `are the same socket (unix:${a.path})` : undefined;
  if (a.kind !== 'tcp' || b.kind !== 'tcp' || a.port !== b.port || a.port === 0) return undefined;
  const [ipA, ipB] = [canonicalIp(a.host), canonicalIp(b.host)];
  if (ipA === undefined || ipB === undefined) {
    if (isWildcardHost(a.host) && isWildcardHost(b.host)) return `are the same address (all interfaces, port ${a.port})`;
    return `both use port ${a.port}: give each port once, or distinct IP addresses (not a host name or all interfaces)`;
  }
  return ipA === ipB ? `are the same address (${ipA}:${a.port})` : undefined;
}
