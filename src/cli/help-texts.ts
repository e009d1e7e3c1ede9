/**
 * The help texts of a commander program as help.ts serves them: what
 * write-help.ts writes at build time, and what test/unit/cli/help.test.ts
 * compares the written file with.
 */
import type { Command } from './commander.js';
import { HELP_WIDTH } from './help.js';

/** commander's `--help` output of `command`, at the width help.ts serves it and without colours. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => HELP_WIDTH, getOutHasColors: () => false });
  command.outputHelp();
  return text;
}

/** `{ "": program help, "<command>": its help }`: what write-help.ts writes for help.ts. */
export function helpTexts(root: Command): Record<string, string> {
  const texts: Record<string, string> = { '': helpOf(root) };
  for (const command of root.commands as Command[]) texts[command.name()] = helpOf(command);
  return texts;
}
