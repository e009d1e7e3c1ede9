import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProgram } from '../../../../src/master/spawn/find-program.js';
import { tempDir } from '../../../helpers/processes.js';

function fixture() {
  const dir = tempDir('overseer-find-');
  for (const sub of ['a', 'b', 'cwd']) mkdirSync(join(dir, sub));
  const file = (path: string, mode: number) => {
    writeFileSync(join(dir, path), '#!/bin/sh\n');
    chmodSync(join(dir, path), mode);
  };
  file('a/srv', 0o644); // not executable: skipped, as execvp does
  file('b/srv', 0o755);
  file('cwd/local', 0o755);
  file('cwd/plain', 0o644);
  return dir;
}

describe('findProgram (--exec)', () => {
  it('looks a bare name up in PATH, skipping entries that are not executable', () => {
    const dir = fixture();
    expect(findProgram('srv', join(dir, 'cwd'), `${join(dir, 'a')}:${join(dir, 'b')}`)).toBe(join(dir, 'b/srv'));
  });

  it('does not look in the working directory for a bare name unless PATH says so', () => {
    const dir = fixture();
    const cwd = join(dir, 'cwd');
    expect(() => findProgram('local', cwd, join(dir, 'a'))).toThrow(/^--exec: program not found: local \(not in PATH\)$/);
    expect(findProgram('local', cwd, `${join(dir, 'a')}:`)).toBe(join(cwd, 'local'));
  });

  it('takes a name with a slash as a path relative to the working directory', () => {
    const dir = fixture();
    const cwd = join(dir, 'cwd');
    expect(findProgram('./local', cwd, '')).toBe(join(cwd, 'local'));
    expect(() => findProgram('./missing', cwd, '')).toThrow(/--exec: program not found: \.\/missing/);
    expect(() => findProgram('./plain', cwd, '')).toThrow(/--exec: program is not an executable file: \.\/plain/);
  });
});
