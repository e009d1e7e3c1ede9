/**
 * Line framing for the control protocol: calls `onLine` for every
 * `\n`-terminated line read from `stream`, without the newline. When the
 * bytes buffered without a newline exceed `maxBytes`, calls `onOverflow`
 * once and stops reading lines (the caller closes the connection).
 */
import type { Readable } from 'node:stream';

export function readLines(
  stream: Readable,
  onLine: (line: string) => 'stop' | void,
  limits?: { maxBytes: number; onOverflow: () => void },
): void {
  let buffered = '';
  let stopped = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    if (stopped) return;
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (limits && Buffer.byteLength(line) > limits.maxBytes) return overflow();
      if (onLine(line) === 'stop') {
        stopped = true;
        return;
      }
    }
    if (limits && Buffer.byteLength(buffered) > limits.maxBytes) overflow();
  });
  function overflow(): void {
    stopped = true;
    limits!.onOverflow();
  }
}
