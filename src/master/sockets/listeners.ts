/**
 * The master's listening sockets: bound and listening from start-up
 * (`--listen`, or passed by systemd, which passes them listening) or from a
 * worker's first request for an address not held yet, then held for the
 * master's whole life, so the port stays bound and its backlog keeps queueing
 * while no worker is alive. Closed only when the master stops.
 *
 * A worker's own request is bound with the workers' credentials when they are
 * not the master's (bind-as.ts): `--user` bounds what a worker can get to the
 * operator's sockets plus what it could bind itself.
 */
import { resolve } from 'node:path';
import { type ListenAddress, formatAddress } from '../../ipc/address.js';
import { type Binder, type Bound, bindAddress, masterBinder } from './bind.js';
import type { InheritedSocket, PassedFd } from '../systemd/socket-activation.js';

const { lstatSync, unlinkSync } = process.getBuiltinModule('node:fs');

export interface HeldListener extends Bound {
  /** Stable identity used to compare what generations listen on. */
  readonly key: string;
  /** Given with `--listen` (as opposed to bound on a worker's request). */
  readonly configured: boolean;
  /** Which `--listen` address it serves (its index), if one. */
  readonly listenIndex?: number;
  /**
   * A unix socket a predecessor master bound and passed: closing the handle
   * does not remove its file (libuv removes only a name it bound itself), so
   * closeAll() does, while the path is still that file (same inode).
   */
  readonly fileOf?: { readonly path: string; readonly ino: number };
  /** Passed in by systemd (socket-activation.ts); `serves` is the `--listen` address it stands for, if any. */
  readonly inherited?: PassedFd & { readonly serves?: ListenAddress };
}

export class Listeners {
  readonly #held: HeldListener[] = [];
  readonly #binding = new Map<string, Promise<HeldListener>>();
  readonly #cwd: string;
  readonly #forWorkers: Binder;

  /** `forWorkers` binds the addresses workers ask for (default: in the master, with its credentials). */
  constructor(cwd: string, forWorkers: Binder = masterBinder) {
    this.#cwd = cwd;
    this.#forWorkers = forWorkers;
  }

  get all(): readonly HeldListener[] {
    return this.#held;
  }

  /**
   * Hold every `--listen` address. A socket systemd passed in (`inherited`)
   * stands for the address it matches (TCP by port, unix by path), which is
   * then not bound again; inherited sockets matching no address are held as
   * they are. On any failure close everything and throw.
   */
  async bindConfigured(addresses: readonly ListenAddress[], inherited: readonly InheritedSocket[] = []): Promise<void> {
    const unclaimed = [...inherited];
    try {
      for (const [index, address] of addresses.entries()) {
        // A predecessor master says which address a socket serves (a port 0 has a real port now); systemd's match by address.
        let i = unclaimed.findIndex((socket) => socket.inherited.listenIndex === index);
        if (i < 0) i = unclaimed.findIndex((socket) => socket.inherited.listenIndex === undefined && sameListener(socket.address, address));
        if (i < 0) this.#hold(await bindAddress(address), true, index);
        else {
          const socket = unclaimed.splice(i, 1)[0]!;
          this.#hold({ ...socket, inherited: { ...socket.inherited, serves: address } }, true, index);
        }
      }
      for (const socket of unclaimed.splice(0)) this.#hold(socket, socket.inherited.configured ?? true);
    } catch (error) {
      for (const socket of unclaimed) socket.handle.close();
      this.closeAll();
      throw error;
    }
  }

  /**
   * The listener serving a worker's `listen()`. TCP is matched by port: the
   * master's `--listen` decides the interface, so `listen(PORT)` and
   * `listen(PORT, 'localhost')` both get the held socket. An address not held
   * yet is bound now, once, however many workers ask at the same time.
   */
  acquire(requested: ListenAddress): Promise<HeldListener> {
    const found = this.#match(requested);
    if (found) return Promise.resolve(found);
    const key = this.#requestKey(requested);
    let pending = this.#binding.get(key);
    if (!pending) {
      pending = bindAddress(this.#absolute(requested), this.#forWorkers)
        .then((bound) => this.#hold(bound, false))
        .finally(() => this.#binding.delete(key));
      this.#binding.set(key, pending);
    }
    return pending;
  }

  /** Close every held socket (unix socket files are removed by libuv, or here: `fileOf`). */
  closeAll(): void {
    for (const listener of this.#held.splice(0)) {
      listener.handle.close();
      if (listener.fileOf) removeIfSame(listener.fileOf);
    }
  }

  #hold(bound: Bound & Pick<HeldListener, 'inherited'>, configured: boolean, listenIndex?: number): HeldListener {
    const fileOf = bound.inherited?.boundByMaster && bound.address.kind === 'unix' ? socketFile(bound.address.path) : undefined;
    const listener = { ...bound, key: formatAddress(bound.address), configured, ...(listenIndex === undefined ? {} : { listenIndex }), ...(fileOf ? { fileOf } : {}) };
    this.#held.push(listener);
    return listener;
  }

  #absolute(address: ListenAddress): ListenAddress {
    return address.kind === 'unix' ? { kind: 'unix', path: resolve(this.#cwd, address.path) } : address;
  }

  #requestKey(address: ListenAddress): string {
    return address.kind === 'unix' ? `unix:${resolve(this.#cwd, address.path)}` : `tcp:${address.port}`;
  }

  #match(requested: ListenAddress): HeldListener | undefined {
    if (requested.kind === 'unix') {
      const path = resolve(this.#cwd, requested.path);
      return this.#held.find((l) => l.address.kind === 'unix' && l.address.path === path);
    }
    const samePort = this.#held.filter((l) => l.address.kind === 'tcp' && l.address.port === requested.port);
    return samePort.find((l) => l.address.kind === 'tcp' && l.address.host === requested.host) ?? samePort[0];
  }
}

/** Does a socket at `held` serve `--listen wanted`? TCP by port (as `acquire` matches), unix by path. */
export function sameListener(held: ListenAddress, wanted: ListenAddress): boolean {
  if (held.kind === 'tcp' && wanted.kind === 'tcp') return held.port === wanted.port;
  return held.kind === 'unix' && wanted.kind === 'unix' && held.path === wanted.path;
}

/** The socket file at `path` now (never through a link), to be removed at close if it is still the same one. */
function socketFile(path: string): HeldListener['fileOf'] {
  try {
    const stat = lstatSync(path);
    return stat.isSocket() ? { path, ino: stat.ino } : undefined;
  } catch {
    return undefined;
  }
}

function removeIfSame(file: NonNullable<HeldListener['fileOf']>): void {
  try {
    const stat = lstatSync(file.path);
    if (stat.isSocket() && stat.ino === file.ino) unlinkSync(file.path);
  } catch {
    // gone, or replaced by something that is not ours
  }
}
