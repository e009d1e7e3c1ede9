/** The words of a ready timeout: what the worker did instead of getting ready. */
import { describe, expect, it } from 'vitest';
import type { ListenAddress } from '../../../../src/ipc/address.js';
import { notReadyReason } from '../../../../src/master/bring-up/not-ready.js';
import type { OwnListener } from '../../../../src/master/workers/worker-handle.js';

const HELD: ListenAddress[] = [{ kind: 'tcp', host: '127.0.0.1', port: 3000 }];
const PORT_0: OwnListener = { address: { kind: 'tcp', host: '::', port: 43211 }, via: 'port-0' };

function worker(listenerKeys: string[], ownListeners: OwnListener[]) {
  return { pid: 12, listenerKeys: new Set(listenerKeys), ownListeners };
}

describe('notReadyReason', () => {
  it.each<[string, ReturnType<typeof worker>, boolean, ListenAddress[], string]>([
    ['fell back to port 0', worker([], [PORT_0]), false, HELD, 'it listened on [::]:43211 (port 0, not an address the master holds) and never on 127.0.0.1:3000'],
    ['port 0, nothing held', worker([], [PORT_0]), false, [], 'it listened on [::]:43211 (port 0, not an address the master holds) and on no address the master holds'],
    ['never listened', worker([], []), false, HELD, 'it never called listen() (the master holds 127.0.0.1:3000 for it)'],
    ['never listened, nothing held', worker([], []), false, [], 'it never called listen()'],
    ['listened, no ready message', worker(['127.0.0.1:3000'], []), false, HELD, 'it listened on 127.0.0.1:3000 but its ready message never came (is its event loop blocked?)'],
    ['--wait-ready, listened', worker(['127.0.0.1:3000'], []), true, HELD, 'it listened on 127.0.0.1:3000 but never said ready'],
    ['--wait-ready, listened on port 0', worker([], [PORT_0]), true, HELD, 'it listened on [::]:43211 (port 0, not an address the master holds) but never said ready'],
    ['--wait-ready, never listened', worker([], []), true, HELD, 'it never called listen() and never said ready'],
  ])('%s', (_label, w, waitReady, held, expected) => {
    const reason = notReadyReason(w, { readyTimeoutMs: 5000, waitReady, held });
    expect(reason).toMatch(/^worker 12 was not ready in 5000 ms: /);
    expect(reason).toContain(expected);
  });
});
