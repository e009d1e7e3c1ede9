// An unmodified express app: `app.listen(process.env.PORT)` is all it does.
const express = require('express');

const VERSION = 'v1';
const app = express();

app.get('/', (req, res) => {
  res.set('x-version', VERSION).send(`${VERSION} pid=${process.pid}\n`);
});

app.get('/work', (req, res) => {
  // A few milliseconds of work, as a realistic handler has.
  setTimeout(() => res.set('x-version', VERSION).json({ version: VERSION, pid: process.pid }), 3);
});

app.listen(process.env.PORT || 3000, () => {
  console.log(`express ${VERSION} listening (pid ${process.pid})`);
});
