/**
 * pino for the master: JSON lines (one event name per fact in `event`) for
 * machines and journald, pino-pretty for people on a terminal.
 *
 * Every line goes, whole, to `destination`: the master's stdout outlet
 * (src/master/output/outlet.ts), which it shares with the workers' relayed stdout.
 * It never blocks the master: a line reaches the OS at once while the reader
 * keeps up, waits in a bounded queue while it stalls, and is dropped and
 * counted beyond that. The CLI flushes the queue, with a deadline, before
 * the process exits.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type * as PinoPretty from 'pino-pretty';

/** pino-pretty only for the pretty format: a master logging JSON (systemd, CI) does not carry it (docs/benchmarks.md, footprint). */
const loadPretty = () => (createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty).prettyFactory;

export type { Logger } from 'pino';

/** Takes one whole log line (ending with a newline) per call. */
export interface LogDestination {
  write(line: string): void;
}

export function createLogger(options: { level: string; format: 'json' | 'pretty'; name: string; destination: LogDestination }): Logger {
  // `pid` in a line is the worker's (or, in master.* events, the master's);
  // `masterPid` is on every line.
  const base = { name: options.name, role: 'master', masterPid: process.pid };
  const { destination } = options;
  if (options.format === 'pretty') {
    // One line per fact for people; the fields are in the JSON format, or
    // shown here too at debug and trace levels.
    const verbose = options.level === 'debug' || options.level === 'trace';
    const prettify = loadPretty()({
      colorize: process.stdout.isTTY === true,
      ignore: 'hostname,role,masterPid',
      hideObject: !verbose,
      messageFormat: '{event}: {msg}',
    });
    return pino({ level: options.level, base }, {
      write(line: string) {
        const text = prettify(line);
        destination.write(text.endsWith('\n') ? text : `${text}\n`);
      },
    });
  }
  return pino({ level: options.level, base }, destination);
}
