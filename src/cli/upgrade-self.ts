/**
 * `overseer upgrade --self [--node <path>]`: ask the running master to start
 * a successor master from the overseer on disk now (on `--node`, or the
 * Node.js the master runs on) and wait until it has taken over.
 * Exit 0: the successor serves (the old master drains its workers and exits
 * on its own). Exit 1: it did not take over (the old master keeps serving),
 * or no answer came in time. Exit 2: bad input, or no master answers.
 */
import { resolve } from 'node:path';
import { type TextOutput, stderr, stdout } from './output.js';
import { logicalCwd } from '../cwd.js';
import { ConfigError } from '../errors.js';
import type { SelfUpgradeOutcome } from '../ipc/control.js';
import { type OptionsOf, parseTimeout } from './client-options.js';
import { connectToMaster, locate } from './find-master.js';
import { printOutcome } from './print-outcome.js';

const { accessSync, constants, statSync } = process.getBuiltinModule('node:fs');

export async function runSelfUpgrade(options: OptionsOf<'upgrade'>, out: TextOutput = stdout, err: TextOutput = stderr): Promise<number> {
  const timeoutMs = parseTimeout(options.timeout);
  const node = options.node === undefined ? undefined : checkNode(options.node);
  const connection = await connectToMaster(locate(options));
  try {
    const outcome = await connection.next(connection.send('upgrade-self', node === undefined ? {} : { node }), timeoutMs);
    return printOutcome(outcome, options.json, describeSelfUpgrade, out, err);
  } finally {
    connection.close();
  }
}

/** `--node`: an absolute path to an executable file (the master runs it, maybe as another user: say so here). */
function checkNode(given: string): string {
  const path = resolve(logicalCwd(), given);
  try {
    if (!statSync(path).isFile()) throw new ConfigError(`--node ${given}: not a file`);
    accessSync(path, constants.X_OK);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`--node ${given}: ${(error as NodeJS.ErrnoException).code ?? String(error)} (give the path of a node binary)`, { cause: error });
  }
  return path;
}

export function describeSelfUpgrade(outcome: SelfUpgradeOutcome): string {
  if (outcome.ok) {
    return `overseer: master ${outcome.previousPid} replaced by master ${outcome.pid} (overseer ${outcome.version}, node ${outcome.node}) after ${outcome.durationMs} ms; generation ${outcome.generation} is live; master ${outcome.previousPid} drains its workers and exits\n`;
  }
  const who = outcome.successorPid === undefined ? '' : ` (successor ${outcome.successorPid} stopped)`;
  return `overseer: self-upgrade failed after ${outcome.durationMs} ms: ${outcome.reason}: ${outcome.message}${who}; the running master keeps serving\n`;
}
