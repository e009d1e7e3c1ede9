/**
 * OutgoingFrames: knows when the bytes a server wrote end a complete
 * WebSocket frame, whatever way the writes cut them, without buffering.
 */
import { describe, expect, it } from 'vitest';
import { OutgoingFrames, closeFrame } from '../../../src/worker/websocket-frames.js';

const HANDSHAKE = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');

/** An unmasked server frame with `length` payload bytes. */
function frame(length: number, opcode = 0x2): Buffer {
  const header = length < 126 ? Buffer.from([0x80 | opcode, length])
    : length < 65_536 ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
      : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
  return Buffer.concat([header, Buffer.alloc(length, 0x61)]);
}

/** atBoundary after each byte of `bytes` fed one at a time. */
function boundaries(tracker: OutgoingFrames, bytes: Buffer): number[] {
  const at: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    tracker.feed(bytes.subarray(i, i + 1));
    if (tracker.atBoundary) at.push(i + 1);
  }
  return at;
}

describe('OutgoingFrames', () => {
  it('is at a boundary only after the 101 head and after each whole frame, byte by byte', () => {
    const tracker = new OutgoingFrames();
    expect(tracker.atBoundary).toBe(false);
    const small = frame(5);
    const medium = frame(300);
    const large = frame(70_000);
    const stream = Buffer.concat([HANDSHAKE, small, medium, large]);
    const h = HANDSHAKE.length;
    expect(boundaries(tracker, stream)).toEqual([h, h + small.length, h + small.length + medium.length, stream.length]);
  });

  it('follows writes cut anywhere (header apart from payload, several frames in one write)', () => {
    const tracker = new OutgoingFrames();
    tracker.feed(HANDSHAKE.subarray(0, 10));
    tracker.feed(Buffer.concat([HANDSHAKE.subarray(10), frame(1_000_000).subarray(0, 3)]));
    expect(tracker.atBoundary).toBe(false);
    const rest = frame(1_000_000).subarray(3);
    tracker.feed(rest.subarray(0, 500_000));
    expect(tracker.atBoundary).toBe(false);
    tracker.feed(rest.subarray(500_000));
    expect(tracker.atBoundary).toBe(true);
    tracker.feed(Buffer.concat([frame(10), frame(0, 0x9), frame(200)]));
    expect(tracker.atBoundary).toBe(true);
    expect(tracker.closeWritten).toBe(false);
  });

  it('notices a close frame written by the app', () => {
    const tracker = new OutgoingFrames();
    tracker.feed(Buffer.concat([HANDSHAKE, frame(3), closeFrame(1000, 'bye')]));
    expect(tracker.closeWritten).toBe(true);
  });

  it('never treats a refused handshake, or an oversized head, as a WebSocket stream', () => {
    const refused = new OutgoingFrames();
    refused.feed(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    refused.feed(frame(2));
    expect([refused.phase, refused.atBoundary]).toEqual(['foreign', false]);
    const huge = new OutgoingFrames();
    huge.feed(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nX: ${'a'.repeat(20_000)}`));
    expect(huge.phase).toBe('foreign');
  });

  it('writes a close frame with the code and reason', () => {
    expect([...closeFrame(1001, 'going away')]).toEqual([0x88, 12, 0x03, 0xe9, ...Buffer.from('going away')]);
  });
});
