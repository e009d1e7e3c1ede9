/**
 * What `overseer upgrade` shows on a terminal while the upgrade runs
 * (docs/operations.md): one line per stage, the current one rewritten in
 * place (`\r`, erase line) as progress lines arrive and as the clock turns,
 * then left as it ended when the next stage starts:
 *
 *   overseer: generation 2 starting: spawned 2/2, ready 2/2 (2.0 s, 2.1 s)
 *   overseer: generation 2 is live after 2.1 s (worker pids 4301, 4302)
 *   overseer: generation 1 drained in 1.3 s: done after 3.4 s
 *
 * Only used when stdout is a terminal and not `--json`; otherwise the
 * command prints its single outcome line as before, so scripts see no change.
 */
import type { TextOutput } from './output.js';
import type { UpgradeOutcome, UpgradeProgress } from '../ipc/control.js';

const ERASE_LINE = '\r\x1b[2K';
/** How often the elapsed time on the current line is redrawn. */
const TICK_MS = 200;

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export class UpgradeView {
  readonly #out: TextOutput;
  readonly #now: () => number;
  readonly #startedAt: number;
  /** Renders the current line from the time since the command started; undefined: nothing on it. */
  #line: ((elapsedMs: number) => string) | undefined = () => 'overseer: asking the master for an upgrade';
  #tick: NodeJS.Timeout | undefined;
  // The starting generation's counts, kept across lines.
  #spawned = 0;
  #ready = 0;
  /** Startup times of the workers whose `ready` this view saw. */
  #times: number[] = [];
  #of = 0;
  #generation: number | undefined;
  #live = false;
  /** The old generation, once its drain is reported. */
  #old: number | undefined;

  constructor(out: TextOutput, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
    this.#startedAt = now();
    this.#draw();
    this.#tick = setInterval(() => this.#draw(), TICK_MS);
  }

  progress(step: UpgradeProgress): void {
    switch (step.phase) {
      case 'started':
        this.#generation = step.generation;
        this.#of = step.of;
        this.#spawned = 0;
        this.#ready = 0;
        this.#times = [];
        this.#live = false;
        this.#line = (t) => `${this.#starting()} … ${formatMs(t)}`;
        break;
      case 'spawned':
        this.#spawned = step.spawned;
        this.#of = step.of;
        break;
      case 'ready':
        this.#ready = step.ready;
        this.#times.push(step.startupMs);
        this.#of = step.of;
        break;
      case 'live':
        this.#live = true;
        this.#commit(this.#starting());
        this.#line = undefined;
        break;
      case 'watching':
        this.#line = () => `overseer: generation ${step.generation} is live; watching for a rollback… ${step.secondsLeft} s left`;
        break;
      case 'draining': {
        const left = step.connections === null ? '' : `, ${step.connections} connection${step.connections === 1 ? '' : 's'} left`;
        this.#old = step.generation;
        const workers = `${step.workers} worker${step.workers === 1 ? '' : 's'}`;
        this.#line = (t) => `overseer: generation ${step.generation} draining: ${workers}${left} … ${formatMs(t)}`;
        break;
      }
      case 'done':
        this.#line = undefined;
        if (step.drainMs !== undefined) {
          const old = this.#old === undefined ? 'the old generation' : `generation ${this.#old}`;
          this.#commit(`overseer: ${old} drained in ${formatMs(step.drainMs)}: done after ${formatMs(step.atMs)}`);
        }
        break;
      default: {
        const unknown: never = step;
        void unknown;
      }
    }
    this.#draw();
  }

  /** The outcome arrived: the starting line is left as it ended, then the outcome line (on `err` if it failed). */
  outcome(outcome: UpgradeOutcome, text: string, err: TextOutput): void {
    if (this.#generation !== undefined && this.#line !== undefined && !outcome.ok) this.#commit(this.#starting());
    this.#clear();
    this.#line = undefined;
    (outcome.ok ? this.#out : err).write(text);
    this.#draw();
  }

  /** Stop redrawing; what is on the current line is left as it is, and the cursor moves below it. */
  end(note?: string): void {
    clearInterval(this.#tick);
    this.#tick = undefined;
    if (this.#line !== undefined) this.#commit(`${this.#line(this.#now() - this.#startedAt)}${note ? ` (${note})` : ''}`);
    this.#line = undefined;
  }

  #starting(): string {
    const times = this.#times.length > 0 ? ` (${this.#times.map(formatMs).join(', ')})` : '';
    const verb = this.#live || this.#ready >= this.#of ? 'started' : 'starting';
    return `overseer: generation ${this.#generation} ${verb}: spawned ${this.#spawned}/${this.#of}, ready ${this.#ready}/${this.#of}${times}`;
  }

  #draw(): void {
    if (this.#line === undefined) return;
    this.#out.write(`${ERASE_LINE}${this.#line(this.#now() - this.#startedAt)}`);
  }

  #clear(): void {
    this.#out.write(ERASE_LINE);
  }

  #commit(text: string): void {
    this.#out.write(`${ERASE_LINE}${text}\n`);
  }
}
