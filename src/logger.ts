/**
 * pino for the master: JSON lines (one event name per fact in `event`) for
 * machines and journald, pino-pretty for people on a terminal. Written
 * synchronously, so the last lines before an exit are never lost.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export function createLogger(options: { level: string; format: 'json' | 'pretty'; name: string }): Logger {
  // `pid` in a line is the worker's (or, in master.* events, the master's);
  // `masterPid` is on every line.
  const base = { name: options.name, role: 'master', masterPid: process.pid };
  if (options.format === 'pretty') {
    // One line per fact for people; the fields are in the JSON format, or
    // shown here too at debug and trace levels.
    const verbose = options.level === 'debug' || options.level === 'trace';
    const stream = pretty({
      colorize: process.stdout.isTTY === true,
      sync: true,
      ignore: 'hostname,role,masterPid',
      hideObject: !verbose,
      messageFormat: '{event}: {msg}',
    });
    return pino({ level: options.level, base }, stream);
  }
  return pino({ level: options.level, base }, pino.destination({ dest: 1, sync: true }));
}
