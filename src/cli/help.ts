/**
 * Help without commander: `overseer --help` and `overseer <command> --help`
 * print a text commander wrote at build time (write-help.ts, into
 * dist/cli/help.json), so asking for help costs no more than node's own
 * start-up plus reading one file.
 *
 * Contract: the text is commander's own output for that request, byte for
 * byte (test/unit/cli/help.test.ts compares it with the live program). It
 * is written at commander's width for output that is not a terminal (80
 * columns), so it is used only where commander would print exactly that:
 * stdout not a terminal, or a terminal 80 columns wide. Anything else (a
 * wider or narrower terminal, `help <command>`, a help file missing or
 * unreadable) goes to commander.
 */

const { readFileSync } = process.getBuiltinModule('node:fs');

/** Where the build writes the texts: `{ "": program help, "<command>": its help }`. */
export const HELP_FILE = new URL('./help.json', import.meta.url);

/** commander's width for help that does not go to a terminal. */
export const HELP_WIDTH = 80;

const isHelpFlag = (word: string | undefined) => word === '--help' || word === '-h';

/** The text to print for `argv`, or undefined when commander should answer it. */
export function prebuiltHelp(argv: readonly string[], out: { readonly isTTY?: boolean; readonly columns?: number }, file: URL = HELP_FILE): string | undefined {
  let key: string;
  if (argv.length === 1 && isHelpFlag(argv[0])) key = '';
  else if (argv.length === 2 && isHelpFlag(argv[1]) && !argv[0]!.startsWith('-')) key = argv[0]!;
  else return undefined;
  if (out.isTTY === true && out.columns !== HELP_WIDTH) return undefined;
  let texts: unknown;
  try {
    texts = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const text = typeof texts === 'object' && texts !== null && Object.hasOwn(texts, key) ? (texts as Record<string, unknown>)[key] : undefined;
  return typeof text === 'string' ? text : undefined;
}
