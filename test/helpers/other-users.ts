/**
 * Tests that run processes as another user (`nobody`) need overseer's files
 * to be readable by that user: the workers load the preload from `dist/`, and
 * a CLI run as that user loads all of it. A checkout under a 0700 directory
 * (a home, or CI's clone in a `mktemp -d` folder) is not, so such tests run
 * overseer from a copy of the built package in a world-readable temporary
 * directory: `bin/`, `dist/`, `package.json`, `examples/` and the runtime
 * dependencies from `node_modules` (the CLI run as another user loads
 * commander and pino). The copy is made once per test file and removed after
 * it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ROOT } from './master.js';

export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;

export interface Install {
  /** The copy's `bin/overseer.js`. */
  readonly bin: string;
  /** The copy's top directory, with a trailing slash (as ROOT). */
  readonly root: string;
}

/** Copy the built package where every user can read it; removed after this test file. */
export function worldReadableInstall(): Install {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-install-'));
  chmodSync(dir, 0o755);
  for (const part of ['bin', 'dist', 'examples', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  for (const name of runtimeDependencies()) {
    cpSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), { recursive: true });
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { bin: join(dir, 'bin', 'overseer.js'), root: `${dir}/` };
}

/**
 * Why `uid` cannot run overseer from `install` with this node, or undefined
 * when it can (node itself may sit in a directory that user cannot reach).
 */
export function cannotRunAs(uid: number, install: Install): string | undefined {
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(`${install.root}dist/worker/preload.js`)})`], {
    uid, gid: uid, cwd: '/', timeout: 10_000, encoding: 'utf8',
  });
  if (probe.status === 0) return undefined;
  return `uid ${uid} cannot run ${process.execPath} or read ${install.root}: ${probe.error?.message ?? probe.stderr.trim().split('\n')[0] ?? `exit ${probe.status}`}`;
}

/** The package's `dependencies`, and theirs, that npm placed at the top of node_modules (nested ones come with their parent). */
function runtimeDependencies(): string[] {
  const manifest = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as { dependencies?: Record<string, string> };
  const found = new Set<string>();
  const queue = Object.keys(manifest(join(ROOT, 'package.json')).dependencies ?? {});
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const file = join(ROOT, 'node_modules', name, 'package.json');
    if (found.has(name) || !existsSync(file)) continue;
    found.add(name);
    queue.push(...Object.keys(manifest(file).dependencies ?? {}));
  }
  return [...found];
}
