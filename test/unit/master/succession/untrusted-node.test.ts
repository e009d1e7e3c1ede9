/** Which Node.js binaries a (root) master runs as its successor (spawn-successor.ts), on real files. */
import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { untrustedNode } from '../../../../src/master/succession/spawn-successor.js';
import { tempDir } from '../../../helpers/processes.js';

const uid = process.geteuid?.() ?? 0;

describe('untrustedNode', () => {
  it('takes a binary only ours (or root\'s) to change, links resolved', () => {
    const dir = tempDir('overseer-node-');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { mode: 0o755 });
    const node = join(bin, 'node');
    copyFileSync('/bin/true', node);
    chmodSync(node, 0o755);
    expect(untrustedNode(node, uid)).toBeUndefined();
    symlinkSync(node, join(dir, 'link'));
    expect(untrustedNode(join(dir, 'link'), uid)).toBeUndefined();

    chmodSync(node, 0o757);
    expect(untrustedNode(join(dir, 'link'), uid)).toMatch(/writable by others/);
    chmodSync(node, 0o755);
    chmodSync(bin, 0o777);
    expect(untrustedNode(node, uid)).toMatch(/bin is writable by others/);
    chmodSync(bin, 0o755);
    expect(untrustedNode(join(dir, 'missing'), uid)).toMatch(/ENOENT/);
    expect(untrustedNode(bin, uid)).toMatch(/not a file/);
  });
});
