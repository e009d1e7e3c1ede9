/**
 * `overseer systemd-unit [start options…] <script> [-- args…]`: print (or
 * write, with `--out-dir`) a ready-to-install `.service` unit whose ExecStart=
 * runs the master with those options, and (unless `--no-socket`) a `.socket`
 * unit holding the `--listen` addresses, so a restart of the master refuses
 * no connection. The options go through the same
 * validation as `start` (bad input: exit 2), and every path in them is made
 * absolute against the current directory, which becomes WorkingDirectory=.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TextOutput, stdout } from './output.js';
import { ConfigError } from '../errors.js';
import { formatAddress } from '../ipc/address.js';
import { logicalCwd } from '../cwd.js';
import { type RawStartOptions, parseStartOptions } from '../master/options/index.js';
import { overseerVersion } from '../version.js';
import { type Units, renderUnits } from './render-units.js';
import { startArgv } from './start-options.js';

const { writeFileSync } = process.getBuiltinModule('node:fs');

export interface UnitOptions {
  /** Render the `.socket` unit: true unless `--no-socket`. */
  readonly socket: boolean;
  readonly description: string | undefined;
  readonly unitUser: string | undefined;
  readonly outDir: string | undefined;
}

const BIN = fileURLToPath(new URL('../../bin/overseer.js', import.meta.url));

/** The units for `raw` (only the options given on the command line), as they would run from `cwd`. */
export function unitsFor(raw: RawStartOptions, unit: UnitOptions, cwd: string): Units {
  // Validate as `start` would. The identity is the target host's business:
  // `--user` is checked by the (root) master when it starts.
  const options = parseStartOptions({ ...raw, user: undefined, group: undefined, cwd });
  // options.name is already safe as a unit name (letters, digits, '.', '_', '-').
  if (unit.unitUser !== undefined && raw.user !== undefined) {
    throw new ConfigError(`--unit-user runs the master as \`${unit.unitUser}\`, but --user \`${raw.user}\` needs a root master: give one of them`);
  }
  const script = options.exec && !options.script.includes('/') ? options.script : resolve(cwd, options.script);
  // Paths as the pipeline resolved them; everything else as given.
  const absolute: RawStartOptions = {
    ...raw,
    listen: raw.listen === undefined ? undefined : options.listen.map(formatAddress),
    pidFile: options.pidFile,
    watch: Array.isArray(raw.watch) ? options.watch : raw.watch,
    control: undefined,
  };
  return renderUnits({
    name: options.name,
    description: unit.description ?? `overseer: ${options.name} (${script})`,
    node: process.execPath,
    bin: BIN,
    cwd,
    script,
    options: startArgv(absolute),
    scriptArgs: options.scriptArgs,
    control: options.control,
    listen: options.listen,
    readyTimeoutMs: options.readyTimeoutMs,
    drainTimeoutMs: options.drainTimeoutMs,
    killTimeoutMs: options.killTimeoutMs,
    socket: unit.socket,
    unitUser: unit.unitUser,
    workerUser: raw.user,
    version: overseerVersion(),
  });
}

export function runSystemdUnit(raw: RawStartOptions, unit: UnitOptions, out: TextOutput = stdout): number {
  const cwd = logicalCwd();
  const units = unitsFor(raw, unit, cwd);
  const { name } = units;
  const files: Array<[string, string]> = [[`${name}.service`, units.service]];
  if (units.socket !== undefined) files.push([`${name}.socket`, units.socket]);
  if (unit.outDir === undefined) {
    out.write(files.map(([, text]) => text).join('\n'));
    return 0;
  }
  for (const [file, text] of files) {
    const path = join(resolve(cwd, unit.outDir), file);
    writeFileSync(path, text);
    out.write(`wrote ${path}\n`);
  }
  const enable = units.socket === undefined ? `${name}.service` : `${name}.socket ${name}.service`;
  out.write(`next: systemctl daemon-reload && systemctl enable --now ${enable}\n`);
  return 0;
}
