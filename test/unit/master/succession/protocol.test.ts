/** What each side of a self-upgrade accepts from the other (protocol.ts). */
import { describe, expect, it } from 'vitest';
import {
  MAX_SUCCESSION_ENV_BYTES, SUCCESSION_PROTOCOL, parseFromSuccessor, parseSuccessionStart, parseToSuccessor,
} from '../../../../src/master/succession/protocol.js';

const start = {
  protocol: SUCCESSION_PROTOCOL, predecessorPid: 10, generation: 3, workerSeq: 9, restarts: [0, 1], lastUpgrade: null,
  listeners: [{ fd: 3, configured: true, boundByMaster: true, listenIndex: 0 }],
};

describe('succession protocol', () => {
  it('reads a valid start, and refuses another version, bad descriptors and oversized text', () => {
    expect(parseSuccessionStart(JSON.stringify(start))).toEqual(start);
    expect(() => parseSuccessionStart(JSON.stringify({ ...start, protocol: 2 }))).toThrow(/speaks succession protocol 2/);
    expect(() => parseSuccessionStart(JSON.stringify({ ...start, listeners: [{ fd: 1, configured: true, boundByMaster: true }] }))).toThrow(/listeners/);
    expect(() => parseSuccessionStart(JSON.stringify({ ...start, metricsFd: -1 }))).toThrow(/metricsFd/);
    expect(() => parseSuccessionStart(' '.repeat(MAX_SUCCESSION_ENV_BYTES + 1))).toThrow(/over/);
    expect(() => parseSuccessionStart('{')).toThrow(/not JSON/);
  });

  it('checks every message field before use', () => {
    expect(parseFromSuccessor({ type: 'hello', protocol: 1, version: '1', node: 'v1', pid: 5 })).toEqual({ type: 'hello', protocol: 1, version: '1', node: 'v1', pid: 5 });
    expect(parseFromSuccessor({ type: 'hello', protocol: '1', version: '1', node: 'v1', pid: 5 })).toBeUndefined();
    expect(parseFromSuccessor({ type: 'took-over', generation: 4 })).toBeUndefined();
    expect(parseFromSuccessor('held')).toBeUndefined();
    expect(parseToSuccessor({ type: 'take-over', state: { metrics: [{ name: 'x', values: [{ labels: {}, value: 1 }] }] } })).toBeDefined();
    expect(parseToSuccessor({ type: 'take-over', state: { metrics: [{ name: 'x', values: [{ labels: {}, value: Infinity }] }] } })).toBeUndefined();
  });
});
