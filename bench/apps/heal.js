// The self-healing bench's app: hello, plus two faults on request.
//   GET /hang      blocks the event loop forever (never answers)
//   GET /grow?mb=N allocates N MiB (default 64), touched so that it counts in
//                  RSS, and keeps it: a leak
//   anything else  "<version>\n" with x-version "p<pid>", so the load client
//                  counts answers per process and sees when a replacement
//                  serves
const http = require('node:http');
const { serve } = require('./bench-env.js');

const TAG = `p${process.pid}`;
/** @type {Buffer[]} the leak: never released */
const leak = [];

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/hang') {
    for (;;) { /* a stuck event loop */ }
  }
  if (url.pathname === '/grow') {
    const mb = Math.min(1024, Math.max(1, Number(url.searchParams.get('mb')) || 64));
    leak.push(Buffer.allocUnsafe(mb * 1024 * 1024).fill(1));
  }
  res.setHeader('x-version', TAG);
  res.end(`${TAG}\n`);
});

serve(server);
