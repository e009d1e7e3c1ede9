/**
 * Test apps, written into a temporary directory so a test can "deploy" a new
 * version by rewriting the file, as a user does. Every app answers with
 * `x-version`; `/slow?ms=N` answers after N ms.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ROOT } from './master.js';
import { onCleanup, tempDir } from './processes.js';

export type Behaviour =
  | 'ok'
  | 'empty'
  | 'throw-at-start'
  | 'syntax-error'
  | 'exit-after-listen'
  | 'hang-after-listen'
  | 'serve-never-ready'
  | 'other-port'
  | 'port-zero'
  | 'never-listen'
  | 'crash-after-start'
  | 'crash-first-start'
  | 'crash-after-ready';

export function appSource(version: string, behaviour: Behaviour = 'ok'): string {
  // Serving slowly keeps requests in flight, so a worker killed while serving would be seen.
  const delayMs = behaviour === 'serve-never-ready' ? 100 : 0;
  const handler = `
const http = require('node:http');
const VERSION = ${JSON.stringify(version)};
const server = http.createServer((req, res) => {
  res.setHeader('x-version', VERSION);
  const slow = /^\\/slow\\?ms=(\\d+)/.exec(req.url);
  if (slow) {
    console.log('slow request started: ' + req.url);
    setTimeout(() => res.end(VERSION + ' slow\\n'), Number(slow[1]));
  }
  else setTimeout(() => res.end(VERSION + ' pid=' + process.pid + '\\n'), ${delayMs});
});
`;
  const port = 'process.env.PORT';
  switch (behaviour) {
    case 'empty':
      return '';
    case 'ok':
      return `${handler}server.listen(${port}, () => { if (process.send) process.send('ready'); });\n`;
    case 'throw-at-start':
      return `${handler}throw new Error('boom: ${version} cannot start');\n`;
    case 'syntax-error':
      return `${handler}server.listen(${port} {\n`;
    case 'exit-after-listen':
      return `${handler}server.listen(${port}, () => { console.error('${version}: giving up after listen'); setImmediate(() => process.exit(1)); });\n`;
    case 'serve-never-ready':
      return `${handler}server.listen(${port});\n`;
    case 'hang-after-listen':
      return `${handler}server.listen(${port}, () => { const end = Date.now() + 60000; while (Date.now() < end) {} });\n`;
    case 'other-port':
      // OTHER_PORT: a port the test saw free (PORT + 1 may belong to anyone).
      return `${handler}server.listen(Number(process.env.OTHER_PORT));\n`;
    case 'port-zero':
      // As `serve` does when it finds its port busy: a random port on all interfaces.
      return `${handler}server.listen(0, () => console.log('listening on port ' + server.address().port));\n`;
    case 'never-listen':
      return `${handler}setInterval(() => {}, 1000);\n`;
    case 'crash-first-start':
      // Crashes on its first start only (a marker file remembers), then serves.
      return `${handler}const marker = __filename + '.started';
if (!require('node:fs').existsSync(marker)) { require('node:fs').writeFileSync(marker, ''); process.exit(4); }
server.listen(${port});\n`;
    case 'crash-after-ready':
      // Says ready, serves, and dies a second later (a bad release for --rollback-window).
      return `${handler}server.listen(${port}, () => setTimeout(() => process.exit(3), 1000));\n`;
    case 'crash-after-start':
      return `${handler}server.listen(${port}, () => setTimeout(() => process.exit(3), 20));\n`;
  }
}

/**
 * Replace a file the way deploy tools do (write beside it, rename over it), so
 * a worker spawned meanwhile reads the old or the new version, never half.
 */
function replaceFile(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

export interface App {
  readonly dir: string;
  readonly script: string;
  deploy(version: string, behaviour?: Behaviour): void;
}

export function makeApp(version = 'v1', behaviour: Behaviour = 'ok'): App {
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  const script = join(dir, 'server.js');
  const app: App = {
    dir,
    script,
    deploy(v, b = 'ok') {
      replaceFile(script, appSource(v, b));
    },
  };
  app.deploy(version, behaviour);
  return app;
}

/**
 * A copy of one of the repo's examples, in a directory inside the repo (so
 * `express` and `overseer/worker` resolve as they do for a user's app).
 * `deploy(v)` rewrites its `const VERSION = '…'` line.
 */
export function copyExample(relative: string, packageType?: 'commonjs'): App {
  const base = join(ROOT, 'test', '.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'example-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  if (packageType) writeFileSync(join(dir, 'package.json'), `{ "type": "${packageType}" }\n`);
  const source = readFileSync(join(ROOT, relative), 'utf8');
  const script = join(dir, basename(relative));
  const app: App = {
    dir,
    script,
    deploy(version) {
      replaceFile(script, source.replace(/const VERSION = '[^']*';/, `const VERSION = '${version}';`));
    },
  };
  app.deploy('v1');
  return app;
}
