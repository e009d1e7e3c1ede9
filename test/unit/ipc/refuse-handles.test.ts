import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { refuseHandles } from '../../../src/ipc/refuse-handles.js';

/** A raw handle as Node delivers it, recording when it was closed. */
function rawHandle(order: string[]) {
  return { close: () => order.push('closed') };
}

describe('refuseHandles', () => {
  it("closes the handle before Node's own listener (added at fork, earlier) converts it, and makes that conversion a pass-through", () => {
    const port = new EventEmitter();
    const order: string[] = [];
    // Node's listener, registered first as at fork: it converts by type.
    port.on('internalMessage', (message: { type: string }) => order.push(`node converts ${message.type}`));
    const refused: string[] = [];
    refuseHandles(port, (type) => refused.push(type));

    port.emit('internalMessage', { cmd: 'NODE_HANDLE', type: 'net.Server', msg: 'x' }, rawHandle(order));
    port.emit('internalMessage', { cmd: 'NODE_HANDLE', type: 'net.Socket', msg: 'y' }, rawHandle(order));
    expect(order).toEqual(['closed', 'node converts net.Native', 'closed', 'node converts net.Native']);
    expect(refused).toEqual(['net.Server', 'net.Socket']);
  });

  it('neutralises a type Node does not know (its listener would throw) and reports a nested message once', () => {
    const port = new EventEmitter();
    const types: string[] = [];
    port.on('internalMessage', (message: { type: string }) => types.push(message.type));
    const refused: string[] = [];
    refuseHandles(port, (type) => refused.push(type));
    const order: string[] = [];
    const handle = rawHandle(order);
    port.emit('internalMessage', { cmd: 'NODE_HANDLE', type: 'net.Socket', msg: { cmd: 'NODE_HANDLE', type: 'bogus' } }, handle);
    port.emit('internalMessage', { cmd: 'NODE_HANDLE', type: 'bogus' }, handle); // the nested one, as Node re-emits it
    expect(types).toEqual(['net.Native', 'net.Native']);
    expect(refused).toEqual(['net.Socket']);
    expect(order).toEqual(['closed']);
  });

  it('leaves other internal messages and handle messages without a handle alone', () => {
    const port = new EventEmitter();
    const seen: unknown[] = [];
    port.on('internalMessage', (message: unknown) => seen.push(message));
    const refused: string[] = [];
    refuseHandles(port, (type) => refused.push(type));
    port.emit('internalMessage', { cmd: 'NODE_HANDLE_ACK' }, undefined);
    port.emit('internalMessage', { cmd: 'NODE_HANDLE', type: 'net.Server' }, undefined);
    expect(seen).toEqual([{ cmd: 'NODE_HANDLE_ACK' }, { cmd: 'NODE_HANDLE', type: 'net.Server' }]);
    expect(refused).toEqual([]);
  });
});
