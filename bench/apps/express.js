// A more realistic app: express, a router, ~3 ms of awaited I/O (as a
// database call would take) and a small JSON body to build and serialise.
// Answers with an x-version header.
const http = require('node:http');
const express = require('express');
const { VERSION, serve } = require('./bench-env.js');

const app = express();
app.disable('etag');

const catalogue = Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, price: Math.round(i * 137) / 100 }));

app.get('/', async (req, res) => {
  await new Promise((resolve) => setTimeout(resolve, 3));
  const items = catalogue.filter((item) => item.id % 2 === 0).map((item) => ({ ...item, total: item.price * 1.2 }));
  res.set('x-version', VERSION).json({ version: VERSION, count: items.length, items });
});

serve(http.createServer(app));
