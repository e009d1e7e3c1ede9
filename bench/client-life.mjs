/**
 * The life of a load-client process, shared by load-client.mjs (HTTP/1.1)
 * and h2-load-client.mjs (HTTP/2). The loops run until --duration-ms, a
 * `stop` message, SIGINT/SIGTERM, the parent's disconnect (an orphaned client
 * stops instead of running to its deadline) or the request budget; then the
 * requests in flight are awaited (each bounded by --timeout-ms), the
 * connections closed, and the report printed on stdout and sent over IPC,
 * after which the client disconnects. A hard deadline (timeout + 5 s, reached
 * only if the client itself misbehaves) reports with `unsettled` and exits 1.
 * `snapshot` messages are answered at any time; other messages go to
 * `onMessage`.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

export class ClientLife {
  #stopping = false;
  #reported = false;
  /** @type {Promise<unknown>[]} */
  #loops = [];
  /** @type {NodeJS.Timeout | undefined} */
  #durationTimer;
  #o;

  /**
   * @param {{
   *   durationMs: number, timeoutMs: number,
   *   buildReport: () => object, snapshot: () => object, inFlight: () => number,
   *   close: () => void, onMessage?: (msg: any) => void,
   * }} o
   */
  constructor(o) {
    this.#o = o;
    const stop = () => this.stop();
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);
    if (process.send) {
      process.on('message', (/** @type {any} */ msg) => {
        if (!msg || typeof msg !== 'object') return;
        if (msg.type === 'stop') this.stop();
        else if (msg.type === 'snapshot') {
          if (process.send && process.connected) process.send({ type: 'snapshot', snapshot: o.snapshot() });
        } else o.onMessage?.(msg);
      });
      process.on('disconnect', stop);
    }
  }

  get stopping() {
    return this.#stopping;
  }

  /** Arm the duration, start the loops, tell the parent. @param {() => Promise<unknown>[]} startLoops */
  start(startLoops) {
    this.#durationTimer = setTimeout(() => this.stop(), this.#o.durationMs);
    this.#loops = startLoops();
    if (process.send && process.connected) process.send({ type: 'started' });
  }

  /** Stop issuing requests, await the ones in flight, close, report. Idempotent. */
  stop() {
    if (this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#durationTimer);
    setTimeout(() => {
      const clean = this.#reported;
      this.#report({ unsettled: this.#o.inFlight() });
      process.exit(clean ? 0 : 1);
    }, this.#o.timeoutMs + 5000).unref();
    Promise.all(this.#loops).then(() => {
      this.#o.close();
      this.#report();
    });
  }

  /** Print the report on stdout, send it over IPC (if any), then disconnect. */
  #report(extra = {}) {
    if (this.#reported) return;
    this.#reported = true;
    const report = { ...this.#o.buildReport(), ...extra };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    if (process.send && process.connected) {
      process.send({ type: 'report', report }, () => { if (process.connected) process.disconnect(); });
    }
  }
}

/**
 * A load client's command line: `--url` (http: or https:, loopback only: a
 * load client never sends traffic elsewhere), `--duration-ms`,
 * `--max-requests`, `--timeout-ms`, plus the client's own integer options
 * (`own`: name → [default, min, max]). Bad input: one line on stderr naming
 * the client, exit 2.
 * @param {string} client @param {Record<string, [string, number, number]>} own
 */
export function parseClientArgs(client, own) {
  /** @param {string} message @returns {never} */
  const usageError = (message) => {
    process.stderr.write(`${client}: ${message}\n`);
    process.exit(2);
  };
  /** @type {Record<string, { type: 'string', default?: string }>} */
  const options = {
    url: { type: 'string' },
    'duration-ms': { type: 'string', default: '10000' },
    'max-requests': { type: 'string', default: '500000' },
    'timeout-ms': { type: 'string', default: '10000' },
  };
  for (const [name, [fallback]] of Object.entries(own)) options[name] = { type: 'string', default: fallback };
  /** @type {Record<string, string | undefined>} */
  let values = {};
  try {
    ({ values } = parseArgs({ strict: true, options }));
  } catch (err) {
    usageError(String(/** @type {Error} */ (err).message).split('\n')[0]);
  }
  /** @param {string} name @param {number} min @param {number} max */
  const int = (name, min, max) => {
    const raw = values[name] ?? '';
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) usageError(`--${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    return n;
  };
  if (!values.url) usageError('--url is required');
  const url = URL.canParse(values.url) ? new URL(values.url) : usageError(`invalid --url "${values.url}"`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') usageError(`only http: and https: URLs are supported, got "${url.protocol}"`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
  if (!loopback) usageError(`refusing non-loopback host "${url.hostname}"`);
  /** @type {Record<string, number>} */
  const counts = {};
  for (const [name, [, min, max]] of Object.entries(own)) counts[name] = int(name, min, max);
  return {
    url,
    counts,
    durationMs: int('duration-ms', 1, 600_000),
    maxRequests: int('max-requests', 1, 10_000_000),
    timeoutMs: int('timeout-ms', 1, 600_000),
    usageError,
  };
}
