/**
 * A listen address as both roles speak of it. TCP hosts are literal IPs or
 * undefined (all interfaces); unix sockets are absolute or cwd-relative paths.
 */
export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string | undefined; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** `127.0.0.1:3000`, `[::1]:3000`, `*:3000`, `unix:/run/app.sock`. */
export function formatAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  if (address.host === undefined) return `*:${address.port}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export function isWildcardHost(host: string | undefined): boolean {
  return host === undefined || host === '' || host === '::' || host === '0.0.0.0';
}

export function isListenAddress(value: unknown): value is ListenAddress {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (v.kind === 'unix') return typeof v.path === 'string' && v.path.length > 0;
  if (v.kind === 'tcp') {
    return (
      typeof v.port === 'number' && Number.isInteger(v.port) && v.port >= 0 && v.port <= 65535 &&
      (v.host === undefined || typeof v.host === 'string')
    );
  }
  return false;
}
