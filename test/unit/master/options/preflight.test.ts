/**
 * The start-up checks that look outside the options, against real files and
 * the real node binary: a script no worker could run and a --node-arg node
 * refuses fail the start with a ConfigError instead of a crash loop.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { parseStartOptions } from '../../../../src/master/options/options.js';
import { checkNodeArgs, checkScript, preflight } from '../../../../src/master/options/preflight.js';
import { tempDir } from '../../../helpers/processes.js';

async function configError(run: () => unknown): Promise<ConfigError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('checkScript', () => {
  it('accepts a file, and a directory node finds an entry point in', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'server.js'), '');
    mkdirSync(join(dir, 'with-index'));
    writeFileSync(join(dir, 'with-index', 'index.js'), '');
    mkdirSync(join(dir, 'with-main'));
    writeFileSync(join(dir, 'with-main', 'package.json'), '{ "main": "app.mjs" }');
    writeFileSync(join(dir, 'with-main', 'app.mjs'), '');
    for (const script of ['server.js', 'with-index', 'with-main', '.'.concat('/server.js')]) expect(() => checkScript(script, dir)).not.toThrow();
  });

  it.each<[string, RegExp]>([
    ['nope.js', /^script not found: nope\.js \(looked for .*\/nope\.js\)$/],
    ['server.js/x', /^script not found: server\.js\/x/],
    ['empty-dir', /^script is a directory with nothing for node to run .*: empty-dir \(/],
    ['/dev/null', /^script is not a regular file: \/dev\/null/],
  ])('%s → %s', async (script, message) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'server.js'), '');
    mkdirSync(join(dir, 'empty-dir'));
    expect((await configError(() => checkScript(script, dir))).message).toMatch(message);
  });
});

describe('checkNodeArgs', () => {
  it('accepts options node accepts (without running --require modules)', async () => {
    await checkNodeArgs(['--max-old-space-size=512', '--expose-gc', '--require=/nonexistent/never-loaded.js']);
  });

  it.each<[string[], string, RegExp]>([
    [['--bogus'], '--bogus', /bad option: --bogus/],
    [['--expose-gc', '--max-old-space-size=abc'], '--max-old-space-size=abc', /illegal value/],
    [['--inspect=99999'], '--inspect=99999', /must be 0 or in range/],
  ])('%j: names %s and quotes node', async (args, culprit, message) => {
    const error = await configError(() => checkNodeArgs(args));
    expect(error.message).toContain(`--node-arg \`${culprit}\` is rejected by node: `);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });
});

describe('preflight', () => {
  it('checks once per options object', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'server.js'), '');
    const options = parseStartOptions({ script: 'server.js', cwd: dir });
    await preflight(options);
    const again = preflight(options);
    expect(again).toBe(preflight(options));
    await again;
  });

  it('--exec looks the program up instead', async () => {
    const options = parseStartOptions({ script: 'no-such-program-here', cwd: tempDir(), exec: true });
    expect((await configError(() => preflight(options))).message).toMatch(/^--exec: program not found/);
  });
});
