/**
 * The checks of `overseer start` that look outside the options: the script
 * is something node can run, and node accepts the `--node-arg` values. They
 * run before the master creates anything (log output, control socket, PID
 * file, sockets), because a worker that cannot start would otherwise be
 * restarted with backoff forever, saying only "exited before ready".
 *
 * `preflight()` runs once per options object: `overseer start` calls it
 * first, and `Master.start()` calls it again for code that builds a Master
 * itself, at no extra cost.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { ConfigError, systemCode } from '../../errors.js';
import { findProgram } from '../spawn/find-program.js';
import type { MasterOptions } from './options.js';

const { statSync } = process.getBuiltinModule('node:fs');

const checked = new WeakMap<MasterOptions, Promise<void>>();
/** `node --version` parses every option and exits; far below this. */
const NODE_CHECK_TIMEOUT_MS = 10_000;

export function preflight(options: MasterOptions): Promise<void> {
  let done = checked.get(options);
  if (!done) {
    done = (async () => {
      if (options.exec) findProgram(options.script, options.cwd); // throws a ConfigError naming --exec
      else checkScript(options.script, options.cwd);
      await checkNodeArgs(options.nodeArgs);
    })();
    checked.set(options, done);
  }
  return done;
}

/**
 * The script is a file, or a directory node runs by its package.json `main`
 * or `index.js` (as `node .` does). Checked as the master's user; a script
 * the workers' `--user` cannot read still fails at the worker.
 */
export function checkScript(script: string, cwd: string): void {
  const path = resolve(cwd, script);
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    if (systemCode(error) === 'ENOENT' || systemCode(error) === 'ENOTDIR') throw new ConfigError(`script not found: ${script} (looked for ${path})`);
    throw new ConfigError(`script cannot be read: ${script} (${path}): ${systemCode(error) ?? String(error)}`, { cause: error });
  }
  if (stat.isFile()) return;
  if (stat.isDirectory()) {
    try {
      // How node finds the main entry of `node <dir>`: CommonJS resolution, even for ESM apps.
      createRequire(import.meta.url).resolve(path);
      return;
    } catch (error) {
      throw new ConfigError(`script is a directory with nothing for node to run (no package.json "main", no index.js): ${script} (${path})`, { cause: error });
    }
  }
  throw new ConfigError(`script is not a regular file: ${script} (${path})`);
}

/**
 * Runs `node <nodeArgs> --version` once: node parses and validates every
 * option, runs no code (`--require`/`--import` modules are not loaded) and
 * exits in ~10 ms. On failure, each option is tried alone to name the one
 * node rejects; node's own first line says why.
 */
export async function checkNodeArgs(nodeArgs: readonly string[]): Promise<void> {
  if (nodeArgs.length === 0) return;
  const all = await nodeRejects(nodeArgs);
  if (all === undefined) return;
  for (const arg of nodeArgs) {
    const alone = await nodeRejects([arg]);
    if (alone !== undefined) throw new ConfigError(`--node-arg \`${arg}\` is rejected by node: ${alone}`);
  }
  throw new ConfigError(`--node-arg \`${nodeArgs.join(' ')}\` is rejected by node: ${all}`);
}

/** Node's first line on stderr when it refuses these options; undefined when it accepts them. */
function nodeRejects(nodeArgs: readonly string[]): Promise<string | undefined> {
  // node:child_process (and node:net, which it loads) only when there is an
  // argument to check: a script that is not found is said without them.
  const { execFile } = process.getBuiltinModule('node:child_process');
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...nodeArgs, '--version'],
      { timeout: NODE_CHECK_TIMEOUT_MS, maxBuffer: 64 * 1024, env: process.env },
      (error, _stdout, stderr) => {
        if (!error) return done(undefined);
        const first = String(stderr).split('\n').map((l) => l.trim()).find((l) => l !== '');
        done(first ?? `node exited with ${error.code ?? error.signal ?? error.message}`);
      },
    );
  });
}
