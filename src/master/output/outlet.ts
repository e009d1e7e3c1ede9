/**
 * One of the master's own output streams (its stdout or its stderr), shared
 * by everything that writes there: the master's log lines and the relays of
 * every worker's output (output-relay.ts).
 *
 * Contract:
 * - every write is whole lines, and all of them go through this one stream
 *   object, so no line is ever glued to another or cut by one;
 * - memory is bounded when the reader stalls: a relay that gets `false` from
 *   `writeLines` stops reading its worker until `onWritable` calls it back
 *   (backpressure reaches the worker through its pipe), and the master's own
 *   lines, which cannot wait, are queued up to `ownLimit` bytes and dropped
 *   beyond it, counted, and reported once the stream drains;
 * - the master never blocks on it: a pipe is written without blocking (Node
 *   queues what the kernel does not take), so a stalled reader cannot stop the
 *   master from supervising;
 * - a stream that fails (EPIPE: the reader is gone) swallows the rest, counted.
 */
import type { Writable } from 'node:stream';

/** What was dropped since the last report. */
export interface Dropped {
  /** The master's own log lines. */
  readonly masterLines: number;
  /** Worker output given up on (a worker gone while the stream was stalled, or the stream failed). */
  readonly workerBytes: number;
}

/** The master's stdout and stderr; a worker's stdout and stderr are relayed to them. */
export interface Outlets {
  readonly stdout: Outlet;
  readonly stderr: Outlet;
}

/** The master's own lines are queued while the stream's queue is under this; relays stop at its high-water mark (16 KiB) plus a chunk each. */
const OWN_LIMIT = 1024 * 1024;
const FLUSH_POLL_MS = 10;

export class Outlet {
  /** Called once the stream drains after something was dropped (the caller logs it). */
  onDropped: ((dropped: Dropped) => void) | undefined;
  readonly #stream: Writable;
  readonly #ownLimit: number;
  readonly #waiting = new Set<() => void>();
  #broken = false;
  #masterLines = 0;
  #workerBytes = 0;

  constructor(stream: Writable, options: { ownLimit?: number } = {}) {
    this.#stream = stream;
    this.#ownLimit = options.ownLimit ?? OWN_LIMIT;
    stream.on('drain', () => this.#drained());
    stream.on('error', () => {
      // The reader is gone. Keep supervising; nothing written here can arrive.
      this.#broken = true;
      this.#drained();
    });
  }

  /** Whole lines of a worker (`lines` ends with a newline). `false`: stop until `onWritable`. */
  writeLines(lines: Buffer): boolean {
    if (this.#broken) {
      this.#workerBytes += lines.length;
      return true;
    }
    return this.#stream.write(lines);
  }

  /** Calls `resume` once the stream takes more (at once, asynchronously, if it does now). */
  onWritable(resume: () => void): void {
    if (this.#broken || !this.#stream.writableNeedDrain) queueMicrotask(resume);
    else this.#waiting.add(resume);
  }

  /** One line of the master's own (ends with a newline); never waits. */
  writeOwn(line: string): void {
    if (this.#broken || this.#stream.writableLength > this.#ownLimit) {
      this.#masterLines++;
      return;
    }
    this.#stream.write(line);
  }

  /** Worker output given up on, for the next report. */
  countDropped(bytes: number): void {
    this.#workerBytes += bytes;
    if (!this.#stream.writableNeedDrain) this.#report();
  }

  /** Resolves when everything queued has been handed to the OS, or at `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    // 'drain' fires only after a write was refused, so look at the queue instead.
    const deadline = Date.now() + timeoutMs;
    while (!this.#broken && this.#stream.writableLength > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_POLL_MS));
    }
  }

  #drained(): void {
    this.#report();
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const resume of waiting) resume();
  }

  #report(): void {
    // A failed stream reports nothing: nobody reads it.
    if (this.#broken || (this.#masterLines === 0 && this.#workerBytes === 0)) return;
    const dropped = { masterLines: this.#masterLines, workerBytes: this.#workerBytes };
    this.#masterLines = 0;
    this.#workerBytes = 0;
    this.onDropped?.(dropped);
  }
}
