// A plain node:http server with no overseer-specific code. Under overseer its
// listen() gets the master's socket; it answers with its version and pid.
// Deploy a new version by editing VERSION, then `overseer upgrade` (or SIGUSR2 to the master).
const http = require('node:http');

const VERSION = 'v1';

const server = http.createServer((req, res) => {
  res.setHeader('x-version', VERSION);
  res.end(`${VERSION} pid=${process.pid}\n`);
});

server.listen(process.env.PORT || 3000, () => {
  console.log(`hello ${VERSION} listening (pid ${process.pid})`);
});
