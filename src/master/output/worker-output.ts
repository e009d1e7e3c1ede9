/**
 * A worker's stdout and stderr as the master relays them (output-relay.ts),
 * and the last lines of its stderr, kept to explain a failed start.
 */
import type { Readable } from 'node:stream';
import type { Clock } from '../../clock.js';
import type { Outlets } from './outlet.js';
import { OutputRelay } from './output-relay.js';

export const STDERR_TAIL_LINES = 20;
/** A tail line is cut here: it goes into log lines and `overseer upgrade`'s report. */
const TAIL_LINE_BYTES = 2048;
const NEWLINE = 0x0a;

export class WorkerOutput {
  readonly #relays: OutputRelay[] = [];
  readonly #tail: string[] = [];
  readonly #clock: Clock;

  constructor(pipes: { stdout: Readable | null; stderr: Readable | null }, outlets: Outlets, options: { clock: Clock; pid: number | undefined }) {
    this.#clock = options.clock;
    const label = `[worker ${options.pid ?? '?'}] `;
    if (pipes.stdout) this.#relays.push(new OutputRelay(pipes.stdout, outlets.stdout, { clock: options.clock, label }));
    if (pipes.stderr) {
      const onLines = (lines: Buffer) => this.#keepTail(lines);
      this.#relays.push(new OutputRelay(pipes.stderr, outlets.stderr, { clock: options.clock, label, onLines }));
    }
  }

  /** The last non-blank lines of stderr, oldest first. */
  get stderrTail(): readonly string[] {
    return this.#tail;
  }

  /** A line of the master's own for the tail (e.g. why the spawn failed). */
  note(line: string): void {
    this.#tail.push(line);
    this.#trimTail();
  }

  /**
   * Calls `then` once both pipes have ended and their last lines are
   * relayed, or after `timeoutMs` (a grandchild may hold a pipe open, or the
   * reader of the master's output may be stalled). The relays then go on on
   * their own, detached (given up if stalled too long).
   */
  settle(timeoutMs: number, then: () => void): void {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      cancel();
      for (const relay of this.#relays) relay.detach();
      then();
    };
    const cancel = this.#clock.setTimeout(once, timeoutMs);
    void Promise.all(this.#relays.map((r) => r.finished)).then(once);
  }

  /** Keeps the last lines of a run of whole lines, reading it backwards: the cost does not grow with the run. */
  #keepTail(lines: Buffer): void {
    const found: string[] = [];
    let end = lines.length - 1; // the newline that ends the line being read
    while (end >= 0 && found.length < STDERR_TAIL_LINES) {
      const start = end === 0 ? 0 : lines.lastIndexOf(NEWLINE, end - 1) + 1;
      const text = lines.toString('utf8', start, Math.min(end, start + TAIL_LINE_BYTES));
      if (text.trim() !== '') found.push(text);
      end = start - 1;
    }
    this.#tail.push(...found.reverse());
    this.#trimTail();
  }

  #trimTail(): void {
    if (this.#tail.length > STDERR_TAIL_LINES) this.#tail.splice(0, this.#tail.length - STDERR_TAIL_LINES);
  }
}
