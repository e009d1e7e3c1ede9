/**
 * Why a worker was not ready by `--ready-timeout`, in words, from what the
 * master saw of it: the held addresses it asked for, the addresses it
 * listened on by itself (the `own-listener` reports), and whether the app
 * had to say ready (`--wait-ready`). The usual culprit is an app that found
 * its port "busy" and fell back to `listen(0)`: it then serves on a random
 * port that no client knows, and the master would otherwise only say "not
 * ready in time".
 */
import { type ListenAddress, formatAddress } from '../../ipc/address.js';
import type { OwnListenVia } from '../../ipc/to-master.js';
import type { WorkerHandle } from '../workers/worker-handle.js';

export function describeVia(via: OwnListenVia): string {
  switch (via) {
    case 'port-0':
      return 'port 0';
    case 'handle':
      return 'a handle it passed';
    case 'fd':
      return 'a file descriptor';
    case 'abstract':
      return 'an abstract socket';
  }
}

export interface NotReadyContext {
  readonly readyTimeoutMs: number;
  readonly waitReady: boolean;
  /** The addresses the master holds, for the worker to listen on. */
  readonly held: readonly ListenAddress[];
}

type Worker = Pick<WorkerHandle, 'pid' | 'listenerKeys' | 'ownListeners'>;

/** E.g. "worker 12 was not ready in 5000 ms: it listened on [::]:43211 (port 0) and never on 127.0.0.1:3000". */
export function notReadyReason(worker: Worker, context: NotReadyContext): string {
  return `worker ${worker.pid} was not ready in ${context.readyTimeoutMs} ms: ${whatItDid(worker, context)}`;
}

function whatItDid(worker: Worker, context: NotReadyContext): string {
  const held = [...worker.listenerKeys];
  const own = worker.ownListeners.map(({ address, via }) => `${formatAddress(address)} (${describeVia(via)}, not an address the master holds)`);
  const listened = [...held, ...own].join(', ');
  if (context.waitReady) {
    if (listened === '') return 'it never called listen() and never said ready (--wait-ready: call ready() or process.send(\'ready\'))';
    return `it listened on ${listened} but never said ready (--wait-ready: call ready() or process.send('ready'))`;
  }
  // Without --wait-ready a worker is ready once a listen() on a held address is set up.
  if (held.length > 0) return `it listened on ${listened} but its ready message never came (is its event loop blocked?)`;
  const expected = context.held.length === 0 ? 'on no address the master holds' : `never on ${context.held.map(formatAddress).join(', ')}`;
  if (own.length > 0) return `it listened on ${listened} and ${expected}`;
  return `it never called listen()${context.held.length === 0 ? '' : ` (the master holds ${context.held.map(formatAddress).join(', ')} for it)`}`;
}
