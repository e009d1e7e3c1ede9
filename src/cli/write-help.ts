/**
 * Build step (`npm run build`, after tsc): writes dist/cli/help.json, the
 * help of the program and of each command as commander prints it for
 * output that is not a terminal (help.ts serves it).
 */
import { HELP_FILE } from './help.js';
import { helpTexts } from './help-texts.js';
import { buildProgram } from './program.js';

const { writeFileSync } = process.getBuiltinModule('node:fs');

writeFileSync(HELP_FILE, `${JSON.stringify(helpTexts(buildProgram({ code: 0 })), null, 2)}\n`);
