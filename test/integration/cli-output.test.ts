/**
 * The CLI's own output (src/cli/output.ts): written with writeSync on fds 1
 * and 2, whole. A reader that has gone away (`overseer --help | head -c0`)
 * is not an error: the command exits as it would have, and says nothing
 * about EPIPE. (That the text itself is right is held elsewhere: the help
 * against commander's in cli-lazy.test.ts, each client's output in its own
 * tests.)
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/master.js';
import { track } from '../helpers/processes.js';

function runWithStdoutClosed(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  track(child.pid);
  // The read end is closed long before node has started and written.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('CLI output', () => {
  it.each([[['--version']], [['--help']], [['start', '--help']]])('overseer %j with its stdout closed by the reader: exit 0, nothing on stderr', async (args) => {
    const result = await runWithStdoutClosed(args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
