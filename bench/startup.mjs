/**
 * CLI start-up: how long each `overseer` command takes from spawn to exit,
 * as a ratio to `node -e 0` measured in the same run.
 *
 * Contracts:
 * - The commands are run round-robin (one of each per round, after one
 *   warm-up round that is thrown away), so a load spike hits every command
 *   alike; each figure is the median of `runs` rounds.
 * - The commands that talk to a master (status, upgrade, stop) run against
 *   no master, in an empty runtime and working directory of their own, so
 *   they measure the client's start-up and its "no master" answer, never a
 *   wait; nothing is started that outlives its spawnSync.
 * - Usable alone: `node bench/startup.mjs [runs] [label=bin ...]` prints the
 *   table for ./bin/overseer.js, with a column pair for each other
 *   executable named (e.g. `main=/tmp/main/bin/overseer.js`, a checkout of
 *   another commit): its commands run in the same rounds, so a before/after
 *   comparison sees the same load.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { now } from './procs.mjs';

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/**
 * @typedef {{ label: string, ms: number, ratio: number, exitCodes: number[] }} OtherRow
 * @param {{ bin: string, runs: number, dir: string, log?: (line: string) => void, others?: Array<{ label: string, bin: string }> }} options
 * @returns {{ runs: number, others: string[], rows: Array<{ label: string, argv: string[], ms: number, ratio: number, exitCodes: number[], samples: number[], others: OtherRow[] }> }}
 */
export function measureStartup({ bin, runs, dir, log = () => {}, others = [] }) {
  const work = join(dir, 'startup');
  mkdirSync(join(work, 'run'), { recursive: true, mode: 0o700 });
  const app = join(work, 'app.js');
  writeFileSync(app, 'require("http").createServer((q, r) => r.end("ok")).listen(process.env.PORT);\n');
  const env = { ...process.env, XDG_RUNTIME_DIR: join(work, 'run'), NODE_OPTIONS: '' };
  const node = process.execPath;
  const commands = [
    { label: 'node -e 0', argv: ['-e', '0'] },
    { label: 'overseer --version', argv: [bin, '--version'] },
    { label: 'overseer --help', argv: [bin, '--help'] },
    { label: 'overseer start --help', argv: [bin, 'start', '--help'] },
    { label: 'overseer status (no master)', argv: [bin, 'status'] },
    { label: 'overseer upgrade (no master)', argv: [bin, 'upgrade'] },
    { label: 'overseer stop (no master)', argv: [bin, 'stop'] },
    { label: 'overseer start app.js --workers 0 (bad input)', argv: [bin, 'start', app, '--workers', '0'] },
  ].map((c) => ({ ...c, samples: /** @type {number[]} */ ([]), exitCodes: /** @type {Set<number>} */ (new Set()) }));
  // The same commands of the other executables: [executable][command].
  const otherCommands = others.map((o) => commands.map((c) => ({
    ...c,
    argv: c.argv[0] === bin ? [o.bin, ...c.argv.slice(1)] : c.argv,
    samples: /** @type {number[]} */ ([]),
    exitCodes: /** @type {Set<number>} */ (new Set()),
  })));

  for (let round = 0; round <= runs; round++) {
    for (const c of [...commands, ...otherCommands.flat()]) {
      const t0 = now();
      const r = spawnSync(node, c.argv, { cwd: work, env, stdio: 'ignore', timeout: 20_000 });
      const ms = now() - t0;
      if (r.error) throw new Error(`${c.label}: ${r.error.message}`);
      if (round === 0) continue; // warm-up: page cache, lazy OS work
      c.samples.push(ms);
      c.exitCodes.add(r.status ?? -1);
    }
  }
  // One baseline for all: `node -e 0` is the same command whichever executable is compared.
  const base = median([...commands[0].samples, ...otherCommands.flatMap((cs) => cs[0].samples)]);
  const rows = commands.map((c, i) => {
    const ms = median(c.samples);
    const other = otherCommands.map((cs, k) => {
      const oms = median(cs[i].samples);
      return { label: others[k].label, ms: oms, ratio: oms / base, exitCodes: [...cs[i].exitCodes] };
    });
    return { label: c.label, argv: c.argv.slice(c.argv[0] === bin ? 1 : 0), ms, ratio: ms / base, exitCodes: [...c.exitCodes], samples: c.samples, others: other };
  });
  for (const r of rows) log(`  ${r.label}: ${r.ms.toFixed(1)} ms, ${r.ratio.toFixed(2)}× node -e 0`);
  return { runs, others: others.map((o) => o.label), rows };
}

/** @param {{ runs: number, others?: string[], rows: Array<{ label: string, ms: number, ratio: number, exitCodes: number[], others?: OtherRow[] }> }} s */
export function formatStartup(s) {
  const others = s.others ?? [];
  const lines = [
    `median of ${s.runs} runs per command, commands interleaved; wall time from spawn to exit`,
    '',
    `| command | ms (median) | ratio to \`node -e 0\` | exit code |${others.map((o) => ` ${o}: ms | ${o}: ratio |`).join('')}`,
    `| --- | --- | --- | --- |${others.map(() => ' --- | --- |').join('')}`,
  ];
  for (const r of s.rows) {
    const cells = (r.others ?? []).map((o) => ` ${o.ms.toFixed(1)} | ${o.ratio.toFixed(2)} |`).join('');
    lines.push(`| ${r.label} | ${r.ms.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.exitCodes.join(', ')} |${cells}`);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = mkdtempSync(join(os.tmpdir(), 'overseer-startup-'));
  try {
    const bin = fileURLToPath(new URL('../bin/overseer.js', import.meta.url));
    const runs = Number(process.argv[2] ?? 15);
    const others = process.argv.slice(3).map((arg) => {
      const at = arg.indexOf('=');
      if (at < 1) throw new Error(`expected label=path/to/bin/overseer.js, got \`${arg}\``);
      return { label: arg.slice(0, at), bin: arg.slice(at + 1) };
    });
    process.stdout.write(`${formatStartup(measureStartup({ bin, runs, dir, others }))}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
