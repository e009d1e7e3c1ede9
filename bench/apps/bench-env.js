// What the bench apps share: which version this process is, how long it takes
// to boot, and how it listens. Environment contract (all optional):
//   BENCH_VERSION_FILE  file whose trimmed content is the version, read once at
//                       boot (a deploy rewrites it, then upgrades), else 'v0'
//   BENCH_BOOT_MS       wait this long before listen(), like an app that
//                       connects to its database first (default 0)
//   PORT, HOST          where to listen (HOST unset: every interface, as
//                       overseer workers are told only PORT)
//   BENCH_PM2_GRACEFUL  '1': PM2's documented graceful recipe: send 'ready'
//                       after listen (for wait_ready), and on SIGINT
//                       server.close() then exit. Otherwise the app is naive:
//                       no signal handler, no ready message.
// Each process prints one line "listening <version> pid=<pid>" once it listens.
const fs = require('node:fs');

const VERSION = process.env.BENCH_VERSION_FILE
  ? fs.readFileSync(process.env.BENCH_VERSION_FILE, 'utf8').trim()
  : 'v0';
const BOOT_MS = Number(process.env.BENCH_BOOT_MS || 0);
const GRACEFUL = process.env.BENCH_PM2_GRACEFUL === '1';

/** Boot (waiting BENCH_BOOT_MS), then listen with `server` and announce it. */
function serve(server) {
  const listen = () => {
    const args = [Number(process.env.PORT || 3000)];
    if (process.env.HOST) args.push(process.env.HOST);
    server.listen(...args, () => {
      console.log(`listening ${VERSION} pid=${process.pid}`);
      if (GRACEFUL && process.send) process.send('ready');
    });
  };
  if (GRACEFUL) {
    process.on('SIGINT', () => server.close(() => process.exit(0)));
  }
  if (BOOT_MS > 0) setTimeout(listen, BOOT_MS);
  else listen();
}

module.exports = { VERSION, serve };
