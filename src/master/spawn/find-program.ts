/**
 * Finds the program `--exec` runs, the way execvp(3) will when the worker is
 * spawned: a name containing `/` is a path (relative to the working
 * directory); a bare name is looked up in each `PATH` entry in order, skipping
 * entries that are not executable files. The master checks it at start-up (a
 * typo fails the start with exit code 2) and again at every spawn (a program
 * removed since then fails that worker's start, like a crash would).
 */
import { delimiter, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';

const { accessSync, constants, existsSync, statSync } = process.getBuiltinModule('node:fs');

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The path to run, absolute, not symlink-resolved (the kernel resolves a
 * `current -> releases/N` link at each exec, so each generation runs what the
 * link names then). Throws a ConfigError naming `--exec` otherwise.
 */
export function findProgram(program: string, cwd: string, pathVariable = process.env.PATH ?? ''): string {
  if (program.includes('/')) {
    const path = resolve(cwd, program);
    if (isExecutableFile(path)) return path;
    if (existsSync(path)) throw new ConfigError(`--exec: program is not an executable file: ${program} (${path})`);
    throw new ConfigError(`--exec: program not found: ${program} (looked for ${path})`);
  }
  // An empty PATH entry means the current directory, as for execvp.
  for (const dir of pathVariable.split(delimiter)) {
    const path = resolve(cwd, dir === '' ? '.' : dir, program);
    if (isExecutableFile(path)) return path;
  }
  throw new ConfigError(`--exec: program not found: ${program} (not in PATH)`);
}
