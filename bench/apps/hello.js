// Hello world on node:http: the smallest possible handler, so any cost the
// supervisor adds to the request path shows. Answers "<version>\n" with an
// x-version header.
const http = require('node:http');
const { VERSION, serve } = require('./bench-env.js');

const server = http.createServer((req, res) => {
  res.setHeader('x-version', VERSION);
  res.end(`${VERSION}\n`);
});

serve(server);
