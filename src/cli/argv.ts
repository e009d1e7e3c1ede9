/**
 * The fast path's parser: a command line read with node:util's parseArgs
 * from the same option table commander's declarations are built from
 * (program.ts), so the CLI need not load commander (~10 ms) to run a
 * well-formed command.
 *
 * Contract: it answers only for a plain command line, and then with the
 * values commander would give (keys are commander's attribute names,
 * defaults applied the way commander applies them). For anything else it
 * declines (`undefined`) and the caller hands the line to commander, which
 * keeps its own help and error messages: an unknown option, a missing or
 * dash-leading value, a value given to a flag, an unexpected argument, a
 * `--help`, or an option whose value is optional or variadic (`[paths...]`,
 * which commander reads its own way). test/unit/cli/argv.test.ts holds
 * both parsers to the same answers.
 */

const { parseArgs } = process.getBuiltinModule('node:util');

/** One option of a table: commander's flags, split, plus its default. */
export interface FlagSpec {
  /** `--pid-file`; a `--no-x` flag sets `x` to false, and `x` defaults to true. */
  readonly flag: `--${string}`;
  readonly short?: `-${string}`;
  /** `<path>` (required value), `[paths...]` (optional or variadic: never on the fast path); none: a boolean. */
  readonly value?: `<${string}>` | `[${string}]`;
  readonly default?: string | boolean;
  /** Repeatable: every value is kept, in order (default `[]`). */
  readonly repeat?: boolean;
}

/** An option as a command declares it: the flag and its help line. */
export interface OptionSpec extends FlagSpec {
  readonly help: string;
}

export interface PlainArgv {
  readonly values: Record<string, unknown>;
  readonly positionals: string[];
}

/** commander's name for an option's value: `--pid-file` → pidFile, `--no-websocket-close` → websocketClose. */
export function attributeName(flag: string): string {
  return flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `argv` read with `table`, or undefined when commander should read it. */
export function parsePlain(argv: readonly string[], table: Readonly<Record<string, FlagSpec>>, allowPositionals: boolean): PlainArgv | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  const keyOf = new Map<string, { key: string; spec: FlagSpec }>();
  for (const [key, spec] of Object.entries(table)) {
    const name = spec.flag.slice(2);
    options[name] = {
      type: spec.value?.startsWith('<') ? 'string' : 'boolean',
      ...(spec.short ? { short: spec.short.slice(1) } : {}),
      ...(spec.repeat ? { multiple: true } : {}),
    };
    keyOf.set(name, { key, spec });
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch {
    return undefined;
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.repeat) values[key] = [];
    else if (spec.flag.startsWith('--no-')) values[key] = true;
    else if (spec.default !== undefined) values[key] = spec.default;
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    const { key, spec } = keyOf.get(name)!;
    if (spec.value?.startsWith('[')) return undefined;
    values[key] = spec.flag.startsWith('--no-') ? false : value;
  }
  return { values, positionals: parsed.positionals };
}
