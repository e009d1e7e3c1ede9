/**
 * The fast path (argv.ts) and commander read a command line the same way.
 * Both are given each line of a corpus; the program is the CLI's own
 * (program.ts), its actions replaced by ones that record what they got. For
 * every line the fast path answers, commander accepts it with the same
 * values; for every line commander refuses, the fast path declines (so the
 * user sees commander's message). A line the fast path declines and
 * commander accepts is fine: commander runs it.
 */
import { describe, expect, it } from 'vitest';
import { attributeName } from '../../../src/cli/argv.js';
import { CLIENT_COMMANDS, type ClientCommand } from '../../../src/cli/client-options.js';
import { parseClientArgv } from '../../../src/cli/commands.js';
import type { Command } from '../../../src/cli/commander.js';
import { buildProgram, declareAll } from '../../../src/cli/program.js';
import { START_OPTIONS, parseStartArgv, rawStartOptions } from '../../../src/cli/start-options.js';
import { Command as CommanderCommand } from 'commander';

type Parsed = { ok: true; values: unknown } | { ok: false; code: string };

/** `argv` through the CLI's commander program, recording the action's arguments instead of running it. */
async function viaCommander(argv: readonly string[]): Promise<Parsed> {
  const root = buildProgram({ code: 0 });
  let values: unknown;
  for (const command of [root, ...root.commands] as Command[]) {
    command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    if (command.name() === 'start') {
      command.action((script: string, args: string[], opts: Record<string, unknown>) => {
        values = rawStartOptions(script, args, opts);
      });
    } else if (Object.hasOwn(CLIENT_COMMANDS, command.name())) {
      command.action((opts: Record<string, unknown>) => {
        values = { command: command.name(), options: { ...opts } };
      });
    }
  }
  try {
    await root.parseAsync([...argv], { from: 'user' });
    return { ok: true, values };
  } catch (error) {
    return { ok: false, code: (error as { code?: string }).code ?? String(error) };
  }
}

function viaFastPath(argv: readonly string[]): unknown {
  const client = parseClientArgv(argv);
  if (client) return { command: client.command, options: { ...client.options } };
  const start = parseStartArgv(argv);
  return start && rawStartOptions(start.script, start.args, start.values);
}

/** Lines the fast path answers. */
const CLIENT_PLAIN: ReadonlyArray<readonly string[]> = [
  [], ['--json'], ['--json', '--json'], ['--name', 'api'], ['--name=api'], ['--name='], ['--name', 'a', '--name', 'b'],
  ['--control', '/run/x.sock'], ['--control=rel.sock', '--json'], ['--pid-file', 'app.pid', '--timeout', '500'],
  ['--timeout', 'abc'], ['--timeout=0'], ['--name', 'api', '--control', 'c', '--pid-file', 'p', '--json', '--timeout', '1'],
];
/** Lines commander refuses, or the fast path leaves to commander. */
const CLIENT_OTHER: ReadonlyArray<readonly string[]> = [
  ['--name', '--json'], ['--name'], ['--timeout'], ['--bogus'], ['extra'], ['--json=1'], ['--json=false'], ['--no-json'],
  ['-h'], ['--help'], ['--'], ['--', 'x'], ['-j'], ['--name', '-x'], ['--NAME', 'x'], ['--nam', 'x'], ['-'],
];

/** `upgrade` only: --self and --node. */
const UPGRADE_PLAIN: ReadonlyArray<readonly string[]> = [
  ['upgrade', '--self'], ['upgrade', '--self', '--node', '/opt/node/bin/node', '--json'], ['upgrade', '--node=/usr/bin/node', '--self'],
  ['upgrade', '--self', '--self', '--timeout', '9'], ['upgrade', '--node', 'node'],
];
const UPGRADE_OTHER: ReadonlyArray<readonly string[]> = [
  ['upgrade', '--self=1'], ['upgrade', '--node'], ['upgrade', '--self', '--node', '--json'], ['status', '--self'], ['stop', '--node', 'x'],
];

const START_PLAIN: ReadonlyArray<readonly string[]> = [
  ['app.js'], ['app.js', '--workers', '0'], ['app.js', '-w', '4'], ['app.js', '-w4'], ['app.js', '-w=4'], ['app.js', '--workers=max'],
  ['app.js', '-l', '3000', '-l', ':3001', '--listen=unix:/tmp/a.sock'], ['-l', '3000', 'app.js'], ['app.js', 'a', 'b', '--workers', '2'],
  ['app.js', '--', '--workers', '2'], ['--', 'app.js', '-x'], ['app.js', '--no-websocket-close'], ['app.js', '--no-websocket-close', '--no-websocket-close'],
  ['app.js', '--node-arg=--max-old-space-size=512', '--node-arg=--expose-gc'], ['app.js', '--exec', '--wait-ready', '--hang-stack'],
  ['app.js', '--ready-timeout', '5', '--drain-timeout', '6', '--kill-timeout', '7', '--close-spread', '8', '--watch-debounce', '9'],
  ['app.js', '--pid-file', 'p', '--name', 'n', '--log-level', 'warn', '--log-format', 'json', '--control', 'c'],
  ['app.js', '--restart-delay', '1', '--restart-delay-max', '2', '--user', 'nobody', '--group', 'nogroup', '--ready-delay', '3'],
  ['app.js', '--hang-timeout', '0', '--max-memory', '1G', '--metrics', '127.0.0.1:9464', '--rollback-window', '100'],
  ['app.js', '-lw'], ['app.js', '-wl', '3'], ['app.js', '-'], ['app.js', '--workers', ''],
];
const START_OTHER: ReadonlyArray<readonly string[]> = [
  ['app.js', '--watch'], ['app.js', '--watch', 'src', 'lib'], ['app.js', '--watch=src'], ['--watch', 'app.js'],
  ['app.js', '--node-arg', '--expose-gc'], ['app.js', '--workers', '-1'], ['app.js', '--workers'], ['app.js', '--bogus'],
  ['app.js', '--exec=1'], ['app.js', '--websocket-close'], ['app.js', '-x'], ['app.js', '-h'], ['app.js', '--help'],
  ['--workers', '2'], [], ['--'], ['app.js', '-5'],
];

const clientLines = (lines: ReadonlyArray<readonly string[]>) => Object.keys(CLIENT_COMMANDS).flatMap((command) => lines.map((line) => [command, ...line]));
const PLAIN = [...clientLines(CLIENT_PLAIN), ...UPGRADE_PLAIN, ...START_PLAIN.map((line) => ['start', ...line])];
const CASES = [...PLAIN, ...clientLines(CLIENT_OTHER), ...UPGRADE_OTHER, ...START_OTHER.map((line) => ['start', ...line])]
  .map((argv) => ({ argv, name: JSON.stringify(argv) }));

describe('the fast path reads a command line as commander does', () => {
  it.each(CASES)('$name', async ({ argv }) => {
    const fast = viaFastPath(argv);
    const commander = await viaCommander(argv);
    if (fast !== undefined) expect(commander).toEqual({ ok: true, values: fast });
    if (!commander.ok) expect(fast).toBeUndefined();
  });

  it('answers the plain lines itself (it does not leave everything to commander)', () => {
    expect(PLAIN.filter((argv) => viaFastPath(argv) === undefined)).toEqual([]);
  });
});

describe('the option tables', () => {
  const tables: Array<[string, Readonly<Record<string, { flag: string }>>]> = [
    ['start', START_OPTIONS],
    ...Object.entries(CLIENT_COMMANDS).map(([name, c]) => [name, c.options] as [string, Record<string, { flag: string }>]),
  ];

  it.each(tables)('%s: each key is commander\'s attribute name for its flag', (_name, table) => {
    const command = declareAll(new CommanderCommand() as unknown as Command, table as never);
    expect(command.options.map((o) => o.attributeName())).toEqual(Object.keys(table));
    expect(Object.values(table).map((o) => attributeName(o.flag))).toEqual(Object.keys(table));
  });

  it('every client command is declared to commander with its table', () => {
    const root = buildProgram({ code: 0 });
    for (const [name, { options }] of Object.entries(CLIENT_COMMANDS) as Array<[ClientCommand, (typeof CLIENT_COMMANDS)[ClientCommand]]>) {
      const command = root.commands.find((c) => c.name() === name)!;
      expect(command.options.map((o) => o.long)).toEqual(Object.values(options).map((o) => o.flag));
    }
  });
});
