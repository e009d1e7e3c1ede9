/**
 * Holds back `listen()` on a handle the master sent us.
 *
 * Node's server setup (`setupListenHandle`) calls `handle.listen(backlog)`,
 * which makes libuv start accepting. We shadow that one method with an own
 * property that only records the backlog, so the server is set up, emits
 * 'listening' and answers `address()`, yet accepts nothing. `activate()`
 * removes the shadow and calls the real method: from then on the kernel's
 * accept queue, which the master's handle keeps alive, is served by us too.
 * A worker that dies before activation has therefore accepted no connection.
 */
interface ListenableHandle {
  listen(backlog: number): number;
}

export interface DeferredListen {
  /** Start accepting. Returns 0 or a negative errno, like libuv. Idempotent. */
  activate(): number;
  readonly active: boolean;
}

export function deferListen(handle: ListenableHandle): DeferredListen {
  let backlog = 511;
  let active = false;
  Object.defineProperty(handle, 'listen', {
    configurable: true,
    writable: true,
    value: (requested: number) => {
      if (Number.isInteger(requested) && requested > 0) backlog = requested;
      return 0;
    },
  });
  return {
    get active() {
      return active;
    },
    activate() {
      if (active) return 0;
      delete (handle as Partial<ListenableHandle>).listen;
      const err = handle.listen(backlog);
      if (err === 0) active = true;
      return err;
    },
  };
}
