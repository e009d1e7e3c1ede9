/**
 * V8 settings for the master process, for a small resident footprint
 * (docs/decisions.md, "The master's footprint", with the measurements).
 *
 * Contract: bin/overseer.js calls `tuneV8ForMaster()` once, for `overseer
 * start` only, before it loads any other module: the CLI's own loading can
 * already run the loader hot enough, depending on the install (setting the
 * flags once the options were checked let TurboFan start in the bench's
 * layout, a copy with node_modules linked: +3.8 MiB). It changes this
 * process alone: workers are started with their own command line and never
 * inherit V8 flags set at run time.
 *
 * - No optimizing compilers (TurboFan; Maglev, on by default from Node 22).
 *   Loading the master runs Node's module loader hot enough for V8 to start
 *   them, and their first compilation pages in compiler code and data the
 *   master never needs again: 4.1 MiB of RSS on Node 20, 6.8 on Node 24.
 *   The master's steady work is I/O (IPC, log relay, /proc reads), which
 *   the interpreter and the baseline compiler (Sparkplug, kept) do as fast
 *   here: the same master CPU for 50 upgrades, the same 64-worker scrape
 *   time. They are off for the master's life, not only its start-up, because
 *   a flag cannot be put back to a default V8 does not report, and because
 *   the heartbeat handlers would otherwise get hot after hours and pull the
 *   compilers in anyway.
 * - The young generation does not grow (`--semi-space-growth-factor=1`): it
 *   stays at its initial 1 MiB semi-spaces instead of doubling during the
 *   start-up churn, which saves 1.4 MiB (Node 20) to 1.7 (Node 24). The size limit itself
 *   (`--max-semi-space-size`) is fixed when the heap is created, so it would
 *   take a command-line flag; the growth factor is read at each growth.
 *
 * V8 applies flags set at run time on a best-effort basis ("behavior is
 * undefined" for some): these three are read where they are used, and the
 * footprint test (test/integration/footprint.test.ts) sees them take effect.
 */
import { setFlagsFromString } from 'node:v8';

const MASTER_V8_FLAGS: readonly string[] = ['--no-turbofan', '--no-maglev', '--semi-space-growth-factor=1'];

export function tuneV8ForMaster(): void {
  for (const flag of MASTER_V8_FLAGS) setFlagsFromString(flag);
}
