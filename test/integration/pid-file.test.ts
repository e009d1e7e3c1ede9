/**
 * The PID file in a directory other users may write: it is written through a
 * temporary file created exclusively under an unpredictable name, never
 * through a link someone planted, and a PID file path that is itself a link
 * is refused.
 */
import { lstatSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseArgs, startMaster } from '../helpers/master.js';
import { makeApp } from '../helpers/app.js';
import { tempDir } from '../helpers/processes.js';

describe('the PID file', () => {
  it('is written through a temporary file created exclusively: a link planted at the old predictable name is not followed', async () => {
    const dir = tempDir('overseer-pid-');
    const pidFile = join(dir, 'app.pid');
    const victim = join(tempDir('overseer-victim-'), 'victim');
    writeFileSync(victim, 'precious\n');
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--pid-file', pidFile));
    // The temporary name the master used to write through: `<pid-file>.<pid>.tmp`.
    symlinkSync(victim, `${pidFile}.${master.pid}.tmp`);
    await master.waitFor('master.ready');
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(pidFile).isFile()).toBe(true);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${master.pid}\n`);
    expect(lstatSync(pidFile).mode & 0o777).toBe(0o644);
  });

  it('that is a symbolic link is refused with one line, exit 1; the link and its target are untouched', async () => {
    const dir = tempDir('overseer-pid-');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const pidFile = join(dir, 'app.pid');
    symlinkSync(victim, pidFile);
    const app = makeApp('v1');
    const master = startMaster(baseArgs(app.script, '--pid-file', pidFile));
    // A master that wrote through the link would run on: fail then, not at the test's timeout.
    const first = await Promise.race([master.exited.then(() => 'exited'), master.waitFor('master.started').then(() => 'started', () => 'exited')]);
    expect(first).toBe('exited');
    expect((await master.exited).code).toBe(1);
    expect(master.stderr).toBe(`overseer: --pid-file ${pidFile} is a symbolic link; refusing to write through it\n`);
    expect(master.events.map((e) => e.event)).not.toContain('worker.spawned');
    expect(lstatSync(pidFile).isSymbolicLink()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readdirSync(dir).sort()).toEqual(['app.pid', 'victim']);
  });
});
