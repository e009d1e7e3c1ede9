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
