/**
 * `--listen` values: `3000`, `:3000`, `127.0.0.1:3000`, `[::1]:3000`,
 * `localhost:3000`, `unix:/path/to.sock`. Port 0 asks the OS for a free port.
 */
import { ConfigError } from '../../errors.js';
import type { ListenAddress } from '../../ipc/address.js';

/**
 * `net.isIP`, with node:net loaded on the first call: loading it (and the
 * streams it needs) is 4 ms of a refused `start` on Node 24, whose options
 * may name no host at all.
 */
export const isIP = (host: string): number => process.getBuiltinModule('node:net').isIP(host);

function port(text: string, raw: string, option: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new ConfigError(`${option} has an invalid port in \`${raw}\` (expected 0-65535)`);
  }
  return Number(text);
}

/** `option` names the option in messages (`--metrics` takes the same TCP forms). */
export function parseListenAddress(raw: string, option = '--listen'): ListenAddress {
  const text = raw.trim();
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (!path) throw new ConfigError(`${option} needs a path after unix:, got \`${raw}\``);
    return { kind: 'unix', path };
  }
  if (/^\d+$/.test(text)) return { kind: 'tcp', host: undefined, port: port(text, raw, option) };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed) {
    const [, host = '', p = ''] = bracketed;
    if (isIP(host) !== 6) throw new ConfigError(`${option} has an invalid IPv6 address in \`${raw}\``);
    return { kind: 'tcp', host, port: port(p, raw, option) };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new ConfigError(`${option} must be PORT, HOST:PORT, [IPv6]:PORT or unix:PATH, got \`${raw}\``);
  const host = text.slice(0, colon);
  const p = text.slice(colon + 1);
  if (host.includes(':')) throw new ConfigError(`${option}: write IPv6 addresses in brackets, like [::1]:3000, got \`${raw}\``);
  if (host !== '' && host !== '*' && isIP(host) === 0 && !/^[a-zA-Z0-9.-]+$/.test(host)) {
    throw new ConfigError(`${option} has an invalid host in \`${raw}\``);
  }
  return { kind: 'tcp', host: host === '' || host === '*' ? undefined : host, port: port(p, raw, option) };
}
