// An ESM app that opts in to overseer's worker API: it says ready itself
// (run with --wait-ready) and closes its own long-lived work on shutdown.
// The same file runs unchanged under plain `node`.
import { createServer } from 'node:http';
import { generation, onShutdown, ready } from 'overseer/worker';

const VERSION = 'v1';

const server = createServer((req, res) => {
  res.setHeader('x-version', VERSION);
  res.end(`${VERSION} generation=${generation} pid=${process.pid}\n`);
});

const heartbeat = setInterval(() => {}, 60_000);

onShutdown(async ({ idle }) => {
  clearInterval(heartbeat);
  await idle; // every in-flight request has finished
  console.log(`esm ${VERSION} (pid ${process.pid}) drained`);
});

server.listen(Number(process.env.PORT) || 3000, () => ready());
