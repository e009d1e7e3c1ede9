/** The successor's side of the hand-over (successor.ts), with a fake channel to its predecessor. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SUCCESSION_ENV, SUCCESSION_PROTOCOL } from '../../../../src/master/succession/protocol.js';
import { type PredecessorChannel, takeSuccession } from '../../../../src/master/succession/successor.js';

const START = { protocol: SUCCESSION_PROTOCOL, predecessorPid: 10, generation: 3, workerSeq: 9, restarts: [], lastUpgrade: null, listeners: [] };

function channel(sendFails = false) {
  const emitter = new EventEmitter();
  const sent: unknown[] = [];
  const fake = Object.assign(emitter, {
    send: (message: unknown, _handle: undefined, _options: undefined, callback: (error: Error | null) => void) => {
      sent.push(message);
      callback(sendFails ? Object.assign(new Error('channel closed'), { code: 'ERR_IPC_CHANNEL_CLOSED' }) : null);
      return !sendFails;
    },
  });
  return { fake: fake as unknown as PredecessorChannel & EventEmitter, sent };
}

describe('takeSuccession', () => {
  it('is nothing without the variable, and refuses the variable without a channel', () => {
    expect(takeSuccession({}, { on: () => undefined }, 1)).toBeUndefined();
    expect(() => takeSuccession({ [SUCCESSION_ENV]: JSON.stringify(START) }, { on: () => undefined }, 1)).toThrow(/no channel to a predecessor/);
  });

  it('says hello before it reads its start, so a predecessor of another version hears which one this is', () => {
    const { fake, sent } = channel();
    const env: NodeJS.ProcessEnv = { [SUCCESSION_ENV]: JSON.stringify({ ...START, protocol: 99 }) };
    expect(() => takeSuccession(env, fake, 42)).toThrow(/speaks succession protocol 99/);
    expect(sent).toEqual([expect.objectContaining({ type: 'hello', protocol: SUCCESSION_PROTOCOL, pid: 42 })]);
    expect(env).not.toHaveProperty(SUCCESSION_ENV); // never reaches a worker
  });

  it('resolves the take-over, rejects if the predecessor goes first, and a send to a gone predecessor does not throw', async () => {
    const { fake } = channel(true);
    const successor = takeSuccession({ [SUCCESSION_ENV]: JSON.stringify(START) }, fake, 42)!;
    expect(() => successor.send({ type: 'held', generation: 4 })).not.toThrow();
    fake.emit('message', { type: 'take-over', state: { metrics: [] } });
    await expect(successor.takeOver).resolves.toEqual({ metrics: [] });

    const other = channel();
    const orphan = takeSuccession({ [SUCCESSION_ENV]: JSON.stringify(START) }, other.fake, 43)!;
    other.fake.emit('disconnect');
    await expect(orphan.takeOver).rejects.toThrow(/predecessor master 10 went away/);
  });
});
