/**
 * `overseer upgrade`: ask the master for an upgrade and wait for its outcome.
 * Exit 0: the new generation is live. Exit 1: it was rejected (the old one
 * keeps serving), or no outcome arrived in time. Exit 2: no master answers.
 * When an upgrade is already running, the master coalesces this request into
 * the follow-up and answers with the follow-up's outcome.
 *
 * On a terminal (stdout a TTY, not `--json`) it asks the master for progress
 * and shows the phases as they happen (upgrade-view.ts), then keeps showing
 * the old generation's drain until it is gone; the exit code is still the
 * outcome's (live or rejected), decided when the new generation is live.
 * Otherwise it prints the one outcome line (or JSON object), as it always has.
 *
 * `--self [--node <path>]` replaces the master itself instead (upgrade-self.ts).
 */
import { type TextOutput, stderr, stdout } from './output.js';
import type { UpgradeOutcome } from '../ipc/control.js';
import { ConfigError } from '../errors.js';
import { type OptionsOf, parseTimeout } from './client-options.js';
import type { ControlConnection } from './control-client.js';
import { connectToMaster, locate } from './find-master.js';
import { printOutcome } from './print-outcome.js';
import type { UpgradeView } from './upgrade-view.js';

export async function runUpgrade(options: OptionsOf<'upgrade'>, out: TextOutput = stdout, err: TextOutput = stderr): Promise<number> {
  if (options.self) return (await import('./upgrade-self.js')).runSelfUpgrade(options, out, err);
  if (options.node !== undefined) throw new ConfigError(`--node ${options.node}: only with --self (the Node.js binary of a successor master)`);
  const timeoutMs = parseTimeout(options.timeout);
  const connection = await connectToMaster(locate(options));
  try {
    if (!options.json && isTerminal(out)) return await withProgress(connection, timeoutMs, out, err);
    return printOutcome(await connection.next(connection.send('upgrade'), timeoutMs), options.json, describeOutcome, out, err);
  } finally {
    connection.close();
  }
}

/** A terminal that understands `\r` and erasing a line. */
function isTerminal(out: TextOutput): boolean {
  return out.isTTY === true && process.env.TERM !== 'dumb';
}

async function withProgress(connection: ControlConnection, timeoutMs: number | undefined, out: TextOutput, err: TextOutput): Promise<number> {
  const sent = connection.send('upgrade', { progress: true });
  const deadline = timeoutMs === undefined ? undefined : { at: Date.now() + timeoutMs, ms: timeoutMs };
  // The view only on a terminal: a script's `overseer upgrade` does not load it.
  const view: UpgradeView = new (await import('./upgrade-view.js')).UpgradeView(out);
  let outcome: UpgradeOutcome | undefined;
  let streamed = false;
  try {
    for (;;) {
      const event = await connection.nextEvent(sent, deadline);
      if (event.kind === 'result') {
        outcome = event.result;
        view.outcome(outcome, describeOutcome(outcome), err);
        // A master older than progress answers with the outcome alone.
        if (!streamed) break;
        continue;
      }
      streamed = true;
      view.progress(event.progress);
      if (event.progress.phase === 'done' && outcome !== undefined) break;
    }
    view.end();
    return outcome.ok ? 0 : 1;
  } catch (error) {
    // Once the outcome is known, a deadline or a closed connection during the
    // drain only ends the view: the upgrade's result stands.
    if (outcome === undefined) {
      view.end();
      throw error;
    }
    view.end(deadline !== undefined && Date.now() >= deadline.at ? 'stopped waiting' : 'the master closed the connection');
    return outcome.ok ? 0 : 1;
  }
}

export function describeOutcome(outcome: UpgradeOutcome): string {
  if (outcome.ok) {
    const pids = outcome.pids.filter((p) => p !== undefined).join(', ');
    return `overseer: generation ${outcome.generation} is live after ${outcome.durationMs} ms (worker pids ${pids})\n`;
  }
  const what = outcome.generation === undefined ? 'upgrade' : `upgrade to generation ${outcome.generation}`;
  const lines = [`overseer: ${what} failed after ${outcome.durationMs} ms: ${outcome.reason}: ${outcome.message}; the old generation ${outcome.reason === 'rolled-back' ? 'serves again' : 'keeps serving'}`];
  if (outcome.stderr && outcome.stderr.length > 0) {
    lines.push('last lines of the new worker\'s stderr:', ...outcome.stderr.map((l) => `  | ${l}`));
  }
  return `${lines.join('\n')}\n`;
}
