/**
 * Signals the master answers. SIGUSR2 and SIGHUP upgrade; SIGTERM and SIGINT
 * stop gracefully, and a second one stops at once. (SIGUSR1 is left to Node's
 * inspector.) Returns a function that removes the handlers.
 */
import type { Master } from './master.js';

export function installSignals(master: Master): () => void {
  let stopSignals = 0;
  const upgrade = (signal: NodeJS.Signals) => () => void master.upgrade(signal);
  const stop = (signal: NodeJS.Signals) => () => {
    stopSignals++;
    if (stopSignals === 1) void master.stop(signal);
    else void master.kill(`second ${signal}`);
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGUSR2', upgrade('SIGUSR2')],
    ['SIGHUP', upgrade('SIGHUP')],
    ['SIGTERM', stop('SIGTERM')],
    ['SIGINT', stop('SIGINT')],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
