/**
 * The prebuilt help (src/cli/help.ts) is commander's: the file the build
 * wrote holds, for the program and every command, what the live program
 * prints for `--help` when stdout is not a terminal; and it is used only
 * where commander would print exactly that.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HELP_FILE, HELP_WIDTH, prebuiltHelp } from '../../../src/cli/help.js';
import { helpTexts } from '../../../src/cli/help-texts.js';
import { buildProgram } from '../../../src/cli/program.js';

// help.ts looks for help.json beside itself: in dist/, where the build writes it.
const BUILT = new URL(HELP_FILE.href.replace('/src/cli/', '/dist/cli/'));

describe('prebuilt help', () => {
  it('the build wrote commander\'s help for the program and every command', () => {
    const built = JSON.parse(readFileSync(BUILT, 'utf8')) as Record<string, string>;
    const live = helpTexts(buildProgram({ code: 0 }));
    expect(Object.keys(live)).toEqual(['', 'start', 'systemd-unit', 'upgrade', 'status', 'stop']);
    expect(built).toEqual(live);
  });

  it('answers --help and <command> --help, for output that is not a terminal or one 80 columns wide', () => {
    const texts = helpTexts(buildProgram({ code: 0 }));
    const pipe = { isTTY: false };
    const at = (argv: string[], out: { isTTY?: boolean; columns?: number }) => prebuiltHelp(argv, out, BUILT);
    expect(at(['--help'], pipe)).toBe(texts['']);
    expect(at(['-h'], pipe)).toBe(texts['']);
    expect(at(['start', '--help'], pipe)).toBe(texts.start);
    expect(at(['status', '-h'], {})).toBe(texts.status);
    expect(at(['stop', '--help'], { isTTY: true, columns: HELP_WIDTH })).toBe(texts.stop);
  });

  it('leaves to commander a terminal of another width, other forms of help and unknown commands', () => {
    const at = (argv: string[], out: { isTTY?: boolean; columns?: number } = {}) => prebuiltHelp(argv, out, BUILT);
    expect(at(['--help'], { isTTY: true, columns: 120 })).toBeUndefined();
    expect(at(['start', '--help'], { isTTY: true, columns: 60 })).toBeUndefined();
    expect(at(['help'])).toBeUndefined();
    expect(at(['help', 'start'])).toBeUndefined();
    expect(at(['frob', '--help'])).toBeUndefined();
    expect(at(['help', '--help'])).toBeUndefined();
    expect(at(['--json', '--help'])).toBeUndefined();
    expect(at(['start', 'app.js', '--help'])).toBeUndefined();
    expect(prebuiltHelp(['--help'], {}, new URL('./no-such-help.json', BUILT))).toBeUndefined();
  });
});
