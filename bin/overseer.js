#!/usr/bin/env node
// The executable. It loads the compiled CLI and is the only place that ends
// the process with an exit code.
//
// `overseer --version` (or -V) alone is answered here, without loading the
// command-line parser: scripts run it to probe an install, and this way it
// costs little more than node's own start-up (bench/startup.mjs).
const argv = process.argv.slice(2);
let run;
try {
  // `overseer start` runs the master in this process. Its V8 settings come
  // first: loading the modules (these, then the CLI's and the master's) is
  // what would start V8's optimizing compilers (dist/master/tune-v8.js).
  // Not later, once the options are known good: how hot the CLI's loading
  // runs the module loader depends on the install (a node_modules link, a
  // pipe on stdout), and in the bench's layout TurboFan then started before
  // the flags: +3.8 MiB of master RSS. Not for `start --help`: with the flags
  // set, a short command takes longer (a refused `start`: ~1 ms on Node 20,
  // ~4 ms on Node 24, nearly all of it loading node:v8, which loads the
  // streams).
  const help = argv.includes('--help') || argv.includes('-h');
  if (argv[0] === 'start' && !help) (await import('../dist/master/tune-v8.js')).tuneV8ForMaster();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    const { overseerVersion } = await import('../dist/version.js');
    (await import('../dist/cli/output.js')).stdout.write(`${overseerVersion()}\n`);
    process.exit(0);
  }
  ({ run } = await import('../dist/cli/main.js'));
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist')) {
    process.stderr.write('overseer: not built yet; run `npm install` (or `npm run build`) in the overseer package\n');
    process.exit(1);
  }
  throw error;
}
process.exitCode = await run(argv);
process.exit();
