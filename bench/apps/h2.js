// Hello world on node:http2, cleartext (h2c): the smallest HTTP/2 handler.
// Answers "<version>\n" with an x-version header on every stream.
const http2 = require('node:http2');
const { VERSION, serve } = require('./bench-env.js');

const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.respond({ ':status': 200, 'x-version': VERSION });
  stream.end(`${VERSION}\n`);
});

serve(server);
