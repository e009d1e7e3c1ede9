/**
 * `overseer upgrade`: ask the master for an upgrade and wait for its outcome.
 * Exit 0: the new generation is live. Exit 1: it was rejected (the old one
 * keeps serving), or no outcome arrived in time. Exit 2: no master answers.
 * When an upgrade is already running, the master coalesces this request into
 * the follow-up and answers with the follow-up's outcome.
 */
import type { Writable } from 'node:stream';
import type { UpgradeOutcome } from '../ipc/control.js';
import { type ClientOptions, locate } from './client-options.js';
import { ControlConnection, parseTimeout } from './control-client.js';

export async function runUpgrade(options: ClientOptions, out: Writable = process.stdout, err: Writable = process.stderr): Promise<number> {
  const timeoutMs = parseTimeout(options.timeout);
  const connection = await ControlConnection.open(locate(options));
  try {
    const outcome = await connection.next(connection.send('upgrade'), timeoutMs);
    if (options.json) out.write(`${JSON.stringify(outcome)}\n`);
    else (outcome.ok ? out : err).write(describeOutcome(outcome));
    return outcome.ok ? 0 : 1;
  } finally {
    connection.close();
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
