/**
 * The commands that talk to a running master (upgrade, status, stop) and
 * their options, as one table. Both parsers read it: commander declares
 * them from it (program.ts), and the fast path (argv.ts, through
 * commands.ts) reads a plain command line with it without loading
 * commander. Light: main.ts loads it for every command line. An option
 * added here (one line) exists in both, and its value type follows from the
 * table: an option with a `value` placeholder is a string, one without is a
 * boolean flag; one with a `default` is always set.
 */
import type { OptionSpec } from './argv.js';
import { ConfigError } from '../errors.js';

/** One `--flag` of a client command; its key is commander's attribute name for it (`--pid-file` → pidFile). */
type ClientOption = OptionSpec & { readonly value?: `<${string}>` };

const COMMON = {
  name: { flag: '--name', value: '<name>', help: 'the master\'s --name', default: 'overseer' },
  control: { flag: '--control', value: '<path>', help: 'the master\'s control socket (default: found from --name in the directories the master chooses from)' },
  pidFile: { flag: '--pid-file', value: '<path>', help: 'the master\'s --pid-file: reach the master started with it, wherever its control socket is' },
  json: { flag: '--json', help: 'print the answer as one JSON object', default: false },
} as const satisfies Record<string, ClientOption>;

const timeout = (help: string) => ({ flag: '--timeout', value: '<ms>', help }) as const satisfies ClientOption;

/** The client commands, in the order `overseer --help` lists them. */
export const CLIENT_COMMANDS = {
  upgrade: {
    description: 'upgrade the running master and wait for the outcome: exit 0 live, 1 rejected, 2 no master',
    options: {
      ...COMMON,
      timeout: timeout('give up waiting after this long (exit 1; the upgrade may still complete)'),
      self: { flag: '--self', help: 'replace the master itself: a successor master from the overseer on disk now takes over the sockets, with no failed request' },
      node: { flag: '--node', value: '<path>', help: 'with --self: the Node.js binary the successor runs on (default: the one the master runs on)' },
    },
  },
  status: {
    description: 'show the running master: pid, uptime, listeners, workers, last upgrade',
    options: { ...COMMON, timeout: timeout('give up waiting for an answer after this long (default 10000)') },
  },
  stop: {
    description: 'stop the running master gracefully and wait until it has exited',
    options: { ...COMMON, timeout: timeout('give up waiting after this long (exit 1)') },
  },
} as const satisfies Record<string, { description: string; options: Record<string, ClientOption> }>;

export type ClientCommand = keyof typeof CLIENT_COMMANDS;
export const isClientCommand = (word: string | undefined): word is ClientCommand => word !== undefined && Object.hasOwn(CLIENT_COMMANDS, word);

type ValueOf<O> = O extends { value: string } ? string : boolean;
type Defaulted<T> = { [K in keyof T as T[K] extends { default: unknown } ? K : never]: ValueOf<T[K]> };
type Optional<T> = { [K in keyof T as T[K] extends { default: unknown } ? never : K]?: ValueOf<T[K]> };
/** Parsed values of an option table. */
type Parsed<T> = Defaulted<T> & Optional<T>;

/** The parsed options of one client command, typed from its table. */
export type OptionsOf<C extends ClientCommand> = Parsed<(typeof CLIENT_COMMANDS)[C]['options']>;
/** A client command with its parsed options, typed per command. */
export type ClientCall = { [C in ClientCommand]: { readonly command: C; readonly options: OptionsOf<C> } }[ClientCommand];
/** What every client command has: the options that find the master, --json and --timeout. */
export type ClientOptions = Parsed<typeof COMMON & { timeout: ReturnType<typeof timeout> }>;

/** `--timeout <ms>`: undefined = wait as long as it takes. */
export function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`--timeout must be an integer >= 1 (ms), got \`${value}\``);
  return n;
}
