/**
 * V8 settings for the master process, for a small resident footprint
 * (docs/decisions.md, "The master's footprint", with the measurements).
 *
 * Contract: `overseer start` calls `tuneV8ForMaster()` once, as soon as its
 * options are known to be good (src/cli/start.ts), before the pre-flight
 * checks and the master's modules load. Not earlier: setting any V8 flag
 * makes the rest of a short command slower (Node's built-in code cache is
 * made for the default flags; node:v8 loads the streams), which a `start`
 * refused for bad input would pay for (4.4 ms of 46 on Node 24). What runs
 * before it is the CLI's loading of the options pipeline: on Node 20 V8
 * optimizes none of it; on Node 24 Maglev takes three of the module
 * loader's path functions, +0.4 MiB of master RSS (docs/decisions.md). It
 * changes this process alone: workers are started with their own command
 * line and never inherit V8 flags set at run time.
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
