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
 * - Usable alone: `node bench/startup.mjs [runs]` prints the table for
 *   ./bin/overseer.js.
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
 * @param {{ bin: string, runs: number, dir: string, log?: (line: string) => void }} options
 * @returns {{ runs: number, rows: Array<{ label: string, argv: string[], ms: number, ratio: number, exitCodes: number[], samples: number[] }> }}
 */
export function measureStartup({ bin, runs, dir, log = () => {} }) {
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

  for (let round = 0; round <= runs; round++) {
    for (const c of commands) {
      const t0 = now();
      const r = spawnSync(node, c.argv, { cwd: work, env, stdio: 'ignore', timeout: 20_000 });
      const ms = now() - t0;
      if (r.error) throw new Error(`${c.label}: ${r.error.message}`);
      if (round === 0) continue; // warm-up: page cache, lazy OS work
      c.samples.push(ms);
      c.exitCodes.add(r.status ?? -1);
    }
  }
  const base = median(commands[0].samples);
  const rows = commands.map((c) => {
    const ms = median(c.samples);
    return { label: c.label, argv: c.argv.slice(c.argv[0] === bin ? 1 : 0), ms, ratio: ms / base, exitCodes: [...c.exitCodes], samples: c.samples };
  });
  for (const r of rows) log(`  ${r.label}: ${r.ms.toFixed(1)} ms, ${r.ratio.toFixed(2)}× node -e 0`);
  return { runs, rows };
}

/** @param {{ runs: number, rows: Array<{ label: string, ms: number, ratio: number, exitCodes: number[] }> }} s */
export function formatStartup(s) {
  const lines = [
    `median of ${s.runs} runs per command, commands interleaved; wall time from spawn to exit`,
    '',
    '| command | ms (median) | ratio to `node -e 0` | exit code |',
    '| --- | --- | --- | --- |',
  ];
  for (const r of s.rows) lines.push(`| ${r.label} | ${r.ms.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.exitCodes.join(', ')} |`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = mkdtempSync(join(os.tmpdir(), 'overseer-startup-'));
  try {
    const bin = fileURLToPath(new URL('../bin/overseer.js', import.meta.url));
    const runs = Number(process.argv[2] ?? 15);
    process.stdout.write(`${formatStartup(measureStartup({ bin, runs, dir }))}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
