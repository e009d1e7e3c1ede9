#!/usr/bin/env node
// The executable. It loads the compiled CLI and is the only place that ends
// the process with an exit code.
let run;
try {
  ({ run } = await import('../dist/cli/main.js'));
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist')) {
    process.stderr.write('overseer: not built yet; run `npm install` (or `npm run build`) in the overseer package\n');
    process.exit(1);
  }
  throw error;
}
process.exitCode = await run(process.argv.slice(2));
process.exit();
