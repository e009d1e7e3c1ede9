/**
 * A long-lived PM2 client, forked by bench/pm2.mjs, that drives the daemon
 * through PM2's programmatic API (the same daemon commands `pm2 start`,
 * `pm2 reload`, `pm2 jlist`, `pm2 delete`, `pm2 kill` send), so that a
 * measurement does not include the ~0.4 s the pm2 CLI takes to boot.
 *
 * Contract:
 * - Started with PM2_HOME and PM2_BENCH_ENTRY (path of pm2's package
 *   directory) in its environment; connects (starting the daemon if needed)
 *   and sends { type: 'connected' } or { type: 'error', message }.
 * - In: { id, cmd: 'start' | 'list' | 'reload' | 'delete' | 'kill', arg }.
 *   Out: { id, ok: true, result } or { id, ok: false, message }.
 * - Exits when its parent disconnects (after disconnecting from PM2).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pm2 = require(/** @type {string} */ (process.env.PM2_BENCH_ENTRY));

/** @param {any} msg */
const send = (msg) => { if (process.connected) process.send?.(msg); };

/** @type {Record<string, (arg: any) => Promise<any>>} */
const commands = {
  /** @param {Record<string, any>} app a PM2 app declaration */
  start: (app) => new Promise((resolve, reject) => pm2.start(app, (err) => (err ? reject(err) : resolve(null)))),
  list: () => new Promise((resolve, reject) => pm2.list((err, list) => (err ? reject(err) : resolve(list.map((p) => ({ name: p.name, pmId: p.pm_id, pid: p.pid, status: p.pm2_env?.status })))))),
  /** @param {string} name */
  reload: (name) => new Promise((resolve, reject) => pm2.reload(name, (err) => (err ? reject(err) : resolve(null)))),
  /** @param {string} name */
  delete: (name) => new Promise((resolve, reject) => pm2.delete(name, (err) => (err ? reject(err) : resolve(null)))),
  kill: () => new Promise((resolve, reject) => pm2.killDaemon((err) => (err ? reject(err) : resolve(null)))),
};

process.on('message', async (/** @type {any} */ msg) => {
  const command = commands[msg?.cmd];
  if (!command) return send({ id: msg?.id, ok: false, message: `unknown command ${msg?.cmd}` });
  try {
    send({ id: msg.id, ok: true, result: await command(msg.arg) });
  } catch (err) {
    send({ id: msg.id, ok: false, message: String(err?.message ?? err) });
  }
});

process.on('disconnect', () => {
  pm2.disconnect();
  process.exit(0);
});

pm2.connect((/** @type {Error | null} */ err) => {
  if (err) send({ type: 'error', message: err.message });
  else send({ type: 'connected' });
});
