/**
 * Where the CLI's commands write: standard output and error, written with
 * `writeSync` on fds 1 and 2.
 *
 * Why not `process.stdout`: the first touch of it builds a stream, and that
 * loads Node's stream modules: 2.8 ms of a 40 ms `overseer status` on Node
 * 24 (`--cpu-prof`, `getStdout`), for one line. Written this way, a short
 * command never loads them. The streams are still used where they answer a
 * question: `isTTY` and `columns` (asked by `upgrade` without `--json`, and
 * by help) read them when asked.
 *
 * Contract: a write is whole and synchronous, as Node's own stdout is for
 * files, pipes and terminals on Linux, so a later `process.exit()` loses
 * nothing. EPIPE (the reader is gone, as in `overseer status | head -1`) is
 * ignored: nobody is left to read the rest. EAGAIN (an fd some other
 * process made non-blocking) hands the rest to the stream, which waits for
 * the fd to drain instead of spinning; so do the other errors, which the
 * stream reports as it always has.
 */
const { writeSync } = process.getBuiltinModule('node:fs');

/** What a command writes to: a stream (in tests) or one of the two below. */
export interface TextOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

function fdOutput(fd: 1 | 2, stream: () => NodeJS.WriteStream): TextOutput {
  return {
    write(text: string): void {
      const bytes = Buffer.from(text, 'utf8');
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPIPE') return;
        stream().write(bytes.subarray(done));
      }
    },
    get isTTY(): boolean {
      return stream().isTTY === true;
    },
    get columns(): number | undefined {
      return stream().columns;
    },
  };
}

export const stdout: TextOutput = fdOutput(1, () => process.stdout);
export const stderr: TextOutput = fdOutput(2, () => process.stderr);
