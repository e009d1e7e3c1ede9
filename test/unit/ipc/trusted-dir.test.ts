/**
 * The directory checks, on real directories: a directory or link planted by
 * another user in a shared parent is never taken for ours. The cases with a
 * second user (nobody) run as root and are skipped otherwise.
 */
import { chmodSync, chownSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlDirProblem, effectiveUid, ownDirProblem, parentDirProblem } from '../../../src/ipc/trusted-dir.js';
import { tempDir } from '../../helpers/processes.js';

const NOBODY = 65534;
const uid = effectiveUid();
const isRoot = uid === 0;
if (!isRoot) console.warn('trusted-dir: cases with a second user skipped: they need root (to create files owned by nobody)');

describe('ownDirProblem', () => {
  it('accepts our private directory; refuses a link to it, a file, one writable by others, and a missing one', () => {
    const dir = tempDir();
    expect(ownDirProblem(dir, uid)).toBeUndefined();
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    expect(ownDirProblem(link, uid)).toBe(`${link} is a symbolic link`);
    chmodSync(dir, 0o777);
    expect(ownDirProblem(dir, uid)).toBe(`${dir} is writable by others (mode 777)`);
    expect(ownDirProblem(join(dir, 'none'), uid)).toBe(`${join(dir, 'none')} does not exist`);
  });
});

describe('parentDirProblem (shared)', () => {
  it('accepts a sticky world-writable directory (as /tmp), refuses a non-sticky one', () => {
    const dir = tempDir();
    chmodSync(dir, 0o1777);
    expect(parentDirProblem(dir, true, uid)).toBeUndefined();
    chmodSync(dir, 0o777);
    expect(parentDirProblem(dir, true, uid)).toBe(`${dir} is writable by others and not sticky`);
  });
});

describe.skipIf(!isRoot)('controlDirProblem with another user (root only)', () => {
  it('refuses our directory name when another user planted a directory or a link there first', () => {
    const shared = tempDir();
    chmodSync(shared, 0o1777);
    const dir = { path: join(shared, `overseer-${uid}`), parent: { path: shared, shared: true } };
    expect(controlDirProblem(dir, uid)).toBeUndefined(); // missing: ours to create
    mkdirSync(dir.path, { mode: 0o700 });
    chownSync(dir.path, NOBODY, NOBODY);
    expect(controlDirProblem(dir, uid)).toBe(`${dir.path} is owned by uid ${NOBODY}, not by uid ${uid}`);

    const other = { path: join(shared, 'linked'), parent: { path: shared, shared: true } };
    symlinkSync(tempDir(), other.path);
    expect(controlDirProblem(other, uid)).toBe(`${other.path} is a symbolic link`);
  });

  it('refuses a private parent ($XDG_RUNTIME_DIR) owned by another user, and a shared one owned by neither us nor root', () => {
    const runtime = tempDir();
    chownSync(runtime, NOBODY, NOBODY);
    expect(controlDirProblem({ path: join(runtime, 'overseer'), parent: { path: runtime, shared: false } }, uid))
      .toBe(`${runtime} is owned by uid ${NOBODY}, not by uid ${uid}`);
    expect(parentDirProblem(runtime, true, uid)).toBe(`${runtime} is owned by uid ${NOBODY}, not by uid ${uid} or root`);
  });
});
