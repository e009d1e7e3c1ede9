/**
 * Binding with the workers' credentials (`--user` / `--group`), so a worker
 * gets from the master no more than it could bind itself: a privileged port,
 * or a path in a directory it cannot write, fails with the errno the kernel
 * gives that user (EACCES), as under plain `node`.
 *
 * A short-lived helper, `node -e` spawned with the workers' uid and gid (libuv
 * drops the supplementary groups, as for the workers), binds the address with
 * `net._createServerHandle` and sends the bound, not listening, handle back
 * over its IPC channel (SCM_RIGHTS). It never listens, so it accepts nothing;
 * the master then makes the socket listen (bind.ts) and holds it. A stale
 * socket file at a unix path is reclaimed by the helper too, so it is removed
 * only where that user could remove it.
 *
 * Only addresses a worker asks for are bound this way: the `--listen`
 * addresses and systemd's sockets are the operator's, bound by the master.
 */
import { spawn } from 'node:child_process';
import { ListenError } from '../../errors.js';
import type { BindOutcome, Binder, ServerHandle } from './bind.js';

/** The identity workers run as, when it is not the master's own. */
export interface Credentials {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

/** The workers' credentials if they differ from the master's (then binding must use them), else undefined. */
export function foreignCredentials(uid: number | undefined, gid: number | undefined): Credentials | undefined {
  const otherUser = uid !== undefined && uid !== process.getuid?.();
  const otherGroup = gid !== undefined && gid !== process.getgid?.();
  return otherUser || otherGroup ? { uid, gid } : undefined;
}

/**
 * The helper's code. argv[1] is the request: `{ host, port, family }` or
 * `{ path }`. It replies once: `{ code, detail? }`, or `{ ok: true }` with the
 * handle, and exits when the master closes the channel.
 */
const HELPER = `
const net = require('node:net');
const fs = require('node:fs');
const { getSystemErrorName } = require('node:util');
const request = JSON.parse(process.argv[1]);
function bind(host, port, family) {
  const result = net._createServerHandle(host, port, family);
  if (typeof result === 'number') return [{ code: getSystemErrorName(result) }];
  // libuv keeps a bind(2) EADDRINUSE for listen(); getsockname reports it (bind.ts).
  const err = typeof result.getsockname === 'function' ? result.getsockname({}) : 0;
  return err === 0 ? [{ ok: true }, result] : [{ code: getSystemErrorName(err) }];
}
function accepting(path) {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
async function bindUnix(path) {
  let stat;
  try { stat = fs.lstatSync(path); } catch {}
  if (stat && !stat.isSocket()) return [{ code: 'EADDRINUSE', detail: 'a file that is not a socket is in the way' }];
  if (stat) {
    if (await accepting(path)) return [{ code: 'EADDRINUSE', detail: 'another process is accepting on it' }];
    try { fs.unlinkSync(path); } catch (error) {
      return [{ code: 'EADDRINUSE', detail: 'a stale socket is in the way that uid ' + process.getuid() + ' cannot remove (' + error.code + ')' }];
    }
  }
  return bind(path, -1, -1);
}
// The channel stays open (a 'message' listener refs it) until the master closes it; then exit at once:
// a normal exit would close the handle, and libuv unlinks the unix socket file of a pipe it bound.
process.on('message', () => {});
process.on('disconnect', () => process.exit(0));
(request.path === undefined ? Promise.resolve(bind(request.host, request.port, request.family)) : bindUnix(request.path))
  .then(([message, handle]) => process.send(message, handle));
`;

const HELPER_TIMEOUT_MS = 10_000;

function isOutcome(message: unknown): message is { ok: true } | { code: string; detail?: string } {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return m.ok === true || (typeof m.code === 'string' && (m.detail === undefined || typeof m.detail === 'string'));
}

function bindInHelper(credentials: Credentials, request: object): Promise<BindOutcome> {
  // NODE_OPTIONS could load code (--require) into the helper.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', HELPER, JSON.stringify(request)], {
      cwd: '/',
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      timeout: HELPER_TIMEOUT_MS,
      ...(credentials.uid === undefined ? {} : { uid: credentials.uid }),
      ...(credentials.gid === undefined ? {} : { gid: credentials.gid }),
    });
    let stderr = '';
    let settled = false;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
    const settle = (outcome: BindOutcome | Error) => {
      if (settled) return;
      settled = true;
      if (child.connected) child.disconnect(); // the helper then exits
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    child.on('message', (message: unknown, handle: unknown) => {
      const received = typeof (handle as { close?: unknown } | undefined)?.close === 'function' ? (handle as ServerHandle) : undefined;
      if (received && (settled || !isOutcome(message) || !('ok' in message))) received.close(); // not one we asked for
      if (!isOutcome(message)) return settle(new ListenError(`bind helper sent ${JSON.stringify(message)}`));
      if (!('ok' in message)) return settle({ code: message.code, detail: message.detail });
      if (!received) return settle(new ListenError('bind helper sent no handle'));
      settle({ handle: received });
    });
    child.on('error', (error) => settle(new ListenError(`cannot start the bind helper: ${error.message}`, { cause: error })));
    // 'close' comes after every message the helper sent has been read.
    child.once('close', (code, signal) => settle(new ListenError(`bind helper exited (${signal ?? `code ${code}`}) without an answer: ${stderr.trim()}`)));
  });
}

/** A Binder that binds with the workers' credentials, in a helper per address. */
export function credentialsBinder(credentials: Credentials): Binder {
  return {
    tcp: (host, port, family) => bindInHelper(credentials, { host, port, family }),
    unix: (path) => bindInHelper(credentials, { path }),
  };
}
