/**
 * Relays one output pipe of a worker (its stdout or its stderr) to the
 * master's matching Outlet (outlet.ts), whole lines only.
 *
 * - Lines: a partial line waits for its newline, but at most
 *   PARTIAL_FLUSH_MS (then it goes out with a newline added) and at most
 *   MAX_LINE bytes (a longer line is cut into pieces of MAX_LINE bytes, at a
 *   UTF-8 character boundary, each ending with a newline). What is left when
 *   the pipe ends goes out with a newline added. So an app's output never
 *   merges into a master log line, whatever the app writes.
 * - Backpressure: when the outlet refuses more, the relay stops reading the
 *   pipe until the outlet drains; the kernel's pipe buffer fills and the
 *   worker's writes wait, as under plain `node` writing to a slow pipe. The
 *   relay itself holds at most one chunk read ahead and one partial line.
 * - Forgery: every master log line (JSON format) is an object with a
 *   `masterPid` key. A line that would parse as such an object goes out with
 *   the worker's label in front (`[worker <pid>] `), so it is no longer JSON
 *   and no reader takes it for the master's. Other lines pass unchanged.
 * - After `detach()` (the worker exited), a relay that has waited on the
 *   outlet for DETACHED_STALL_MS is given up: its pipe is closed and what it
 *   held is counted as dropped, so a stalled reader cannot make dead workers'
 *   pipes pile up in the master.
 */
import type { Readable } from 'node:stream';
import type { Clock } from '../../clock.js';
import type { Outlet } from './outlet.js';

/** Longest line relayed in one piece; journald's own default (`LineMax=`) is 48K. */
export const MAX_LINE = 64 * 1024;
/** How long a partial line waits for its newline. */
export const PARTIAL_FLUSH_MS = 1_000;
/** How long a relay of an exited worker may wait on a stalled outlet. */
export const DETACHED_STALL_MS = 10_000;

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');

export interface RelayOptions {
  readonly clock: Clock;
  /** Put in front of a line that would pass for the master's, e.g. `[worker 123] `. */
  readonly label: string;
  /** Sees every run of whole lines relayed (each ends with a newline). */
  readonly onLines?: ((lines: Buffer) => void) | undefined;
}

export class OutputRelay {
  /** Resolves once the pipe has ended (or was given up) and everything read has gone to the outlet. */
  readonly finished: Promise<void>;
  readonly #source: Readable;
  readonly #outlet: Outlet;
  readonly #options: RelayOptions;
  readonly #label: Buffer;
  #partial: Buffer[] = [];
  #partialLength = 0;
  #cancelFlush: (() => void) | undefined;
  #cancelGiveUp: (() => void) | undefined;
  #paused = false;
  #detached = false;
  #ended = false;

  constructor(source: Readable, outlet: Outlet, options: RelayOptions) {
    this.#source = source;
    this.#outlet = outlet;
    this.#options = options;
    this.#label = Buffer.from(options.label);
    this.finished = new Promise((resolve) => {
      const end = () => {
        if (this.#ended) return;
        this.#ended = true;
        this.#flushPartial();
        this.#cancelGiveUp?.();
        resolve();
      };
      source.once('end', end);
      source.once('close', end);
    });
    source.on('error', () => {}); // a failed read ends the pipe: 'close' follows
    source.on('data', (chunk: Buffer) => this.#take(chunk));
  }

  /** The worker has exited: from now on, a stall on the outlet is given up after DETACHED_STALL_MS. */
  detach(): void {
    this.#detached = true;
    if (this.#paused) this.#armGiveUp();
  }

  #take(chunk: Buffer): void {
    let start = 0;
    if (this.#partialLength > 0) {
      const first = chunk.indexOf(NEWLINE);
      if (first === -1) return this.#hold(chunk);
      const line = Buffer.concat([...this.#partial, chunk.subarray(0, first + 1)]);
      this.#clearPartial();
      this.#writeLines(line);
      start = first + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) this.#writeLines(chunk.subarray(start, last + 1));
    if (Math.max(last + 1, start) < chunk.length) this.#hold(chunk.subarray(Math.max(last + 1, start)));
  }

  /** `lines` ends with a newline. The common case is one write, unchanged. */
  #writeLines(lines: Buffer): void {
    if (lines.length <= MAX_LINE && !mayPassForMaster(lines)) return this.#out(lines);
    let run = 0; // start of the lines not written yet that pass unchanged
    for (let from = 0; from < lines.length; ) {
      const newline = lines.indexOf(NEWLINE, from);
      const line = lines.subarray(from, newline);
      if (line.length > MAX_LINE || passesForMaster(line)) {
        if (run < from) this.#out(lines.subarray(run, from));
        this.#outLine(line);
        run = newline + 1;
      }
      from = newline + 1;
    }
    if (run < lines.length) this.#out(lines.subarray(run));
  }

  /** One line without its newline: cut to MAX_LINE pieces, each labelled if it would pass for the master's. */
  #outLine(line: Buffer): void {
    let rest = line;
    do {
      const cut = rest.length > MAX_LINE ? utf8Boundary(rest, MAX_LINE) : rest.length;
      const piece = rest.subarray(0, cut);
      rest = rest.subarray(cut);
      const parts = passesForMaster(piece) ? [this.#label, piece, NEWLINE_BUFFER] : [piece, NEWLINE_BUFFER];
      this.#out(Buffer.concat(parts));
    } while (rest.length > 0);
  }

  #out(lines: Buffer): void {
    this.#options.onLines?.(lines);
    if (!this.#outlet.writeLines(lines)) this.#pause();
  }

  #hold(data: Buffer): void {
    this.#partial.push(data);
    this.#partialLength += data.length;
    if (this.#partialLength > MAX_LINE) {
      const held = Buffer.concat(this.#partial);
      const cut = utf8Boundary(held, MAX_LINE);
      this.#clearPartial();
      this.#outLine(held.subarray(0, cut));
      return this.#hold(held.subarray(cut));
    }
    if (this.#partialLength > 0 && !this.#cancelFlush) {
      this.#cancelFlush = this.#options.clock.setTimeout(() => {
        this.#cancelFlush = undefined;
        this.#flushPartial();
      }, PARTIAL_FLUSH_MS);
    }
  }

  #flushPartial(): void {
    if (this.#partialLength === 0) return;
    const line = Buffer.concat(this.#partial);
    this.#clearPartial();
    this.#outLine(line);
  }

  #clearPartial(): void {
    this.#partial = [];
    this.#partialLength = 0;
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
  }

  #pause(): void {
    if (this.#paused || this.#ended) return;
    this.#paused = true;
    this.#source.pause();
    if (this.#detached) this.#armGiveUp();
    this.#outlet.onWritable(() => {
      this.#paused = false;
      this.#cancelGiveUp?.();
      this.#cancelGiveUp = undefined;
      if (!this.#ended) this.#source.resume();
    });
  }

  #armGiveUp(): void {
    if (this.#cancelGiveUp) return;
    this.#cancelGiveUp = this.#options.clock.setTimeout(() => {
      if (this.#ended || !this.#paused) return;
      this.#outlet.countDropped(this.#partialLength + this.#source.readableLength);
      this.#clearPartial();
      this.#source.destroy();
    }, DETACHED_STALL_MS);
  }
}

/** Cheap test of a run of lines: could one of them be a JSON object with a `masterPid` key? (`\u` may spell it.) */
function mayPassForMaster(lines: Buffer): boolean {
  return lines.includes('masterPid') || lines.includes('\\u');
}

/** Would a reader parsing this line as JSON take it for a master log line? */
function passesForMaster(line: Buffer): boolean {
  let i = 0;
  while (i < line.length && (line[i] === 0x20 || line[i] === 0x09 || line[i] === 0x0d)) i++;
  if (line[i] !== 0x7b /* { */ || !mayPassForMaster(line)) return false;
  try {
    const value: unknown = JSON.parse(line.toString('utf8'));
    return typeof value === 'object' && value !== null && Object.hasOwn(value, 'masterPid');
  } catch {
    return false;
  }
}

/** The largest cut ≤ `max` that does not split a UTF-8 character (falls back to `max` for bytes that are not UTF-8). */
function utf8Boundary(buffer: Buffer, max: number): number {
  for (let cut = max; cut > max - 4 && cut > 0; cut--) {
    if ((buffer[cut]! & 0xc0) !== 0x80) return cut;
  }
  return max;
}
