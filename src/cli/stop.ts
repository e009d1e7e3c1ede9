/**
 * `overseer stop`: graceful stop through the control socket; returns when the
 * master process is gone (not merely when it said it stopped), so a script
 * can start another one right after. Exit 0 stopped, 1 not within
 * `--timeout`, 2 no master answers.
 */
import { type TextOutput, stdout } from './output.js';
import { OverseerError } from '../errors.js';
import { isAlive } from '../alive.js';
import { type OptionsOf, parseTimeout } from './client-options.js';
import { connectToMaster, locate } from './find-master.js';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** How often to look whether the master's pid is gone, after it said it stopped. */
const EXIT_POLL_MS = 10;

export async function runStop(options: OptionsOf<'stop'>, out: TextOutput = stdout): Promise<number> {
  const timeoutMs = parseTimeout(options.timeout);
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  const left = () => (deadline === Infinity ? undefined : Math.max(1, deadline - Date.now()));
  const connection = await connectToMaster(locate(options));
  let pid: number;
  let durationMs: number | undefined;
  try {
    const request = connection.send('stop');
    pid = (await connection.next(request, left())).pid;
    try {
      const stopped = await connection.next(request, left());
      if (stopped.stage === 'stopped') durationMs = stopped.durationMs;
    } catch (error) {
      // The connection closing is how a master that was killed meanwhile
      // answers; whether it is gone is checked below either way.
      if (Date.now() >= deadline) throw error;
    }
  } finally {
    connection.close();
  }
  while (alive(pid)) {
    if (Date.now() >= deadline) throw new OverseerError('ERR_CONTROL', `master ${pid} is still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
  }
  const result = { stopped: true, pid, durationMs: durationMs ?? null };
  out.write(options.json ? `${JSON.stringify(result)}\n` : `overseer: master ${pid} stopped${durationMs === undefined ? '' : ` after ${durationMs} ms`}\n`);
  return 0;
}

/** Running, and not a zombie waiting for its parent to reap it (it has exited). */
function alive(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
