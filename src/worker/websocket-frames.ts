/**
 * Follows the bytes a server writes on an upgraded connection, to know when
 * the stream is between two WebSocket frames: the only place a close frame
 * of ours can go without corrupting a frame the app is writing.
 *
 * It counts, it does not buffer: the handshake response is checked on its
 * first 12 bytes (`HTTP/1.1 101`) and its end found with a 4-byte match;
 * then each frame's header (2–14 bytes, RFC 6455 §5.2) is read and its
 * payload skipped by length. Anything unexpected (not a 101, a response head
 * over 16 KiB, a payload length beyond 2^53) turns the tracker to `foreign`:
 * the connection is then never written to by us.
 */

/** Phases of the outgoing stream. */
export type StreamPhase = 'response' | 'frames' | 'foreign';

const STATUS_LINE = /^HTTP\/1\.[01] 101$/;
const STATUS_BYTES = 12; // "HTTP/1.1 101"
const HEAD_END = [13, 10, 13, 10]; // \r\n\r\n
const MAX_RESPONSE_HEAD = 16 * 1024;

export class OutgoingFrames {
  #phase: StreamPhase = 'response';
  // Response phase.
  #status = '';
  #headBytes = 0;
  #headEndMatched = 0;
  // Frames phase: the header being read, then the payload bytes still due.
  readonly #header = Buffer.alloc(14);
  #headerRead = 0;
  #payloadLeft = 0;
  #closeWritten = false;

  get phase(): StreamPhase {
    return this.#phase;
  }

  /** True when every byte written so far ends a complete frame. */
  get atBoundary(): boolean {
    return this.#phase === 'frames' && this.#headerRead === 0 && this.#payloadLeft === 0;
  }

  /** The app has written a close frame of its own: no second one may follow. */
  get closeWritten(): boolean {
    return this.#closeWritten;
  }

  /** The stream is not ours to follow (or write to) any more. */
  abandon(): void {
    this.#phase = 'foreign';
  }

  feed(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length && this.#phase !== 'foreign') {
      i = this.#phase === 'response' ? this.#readResponse(bytes, i) : this.#readFrames(bytes, i);
    }
  }

  #readResponse(bytes: Uint8Array, from: number): number {
    let i = from;
    for (; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (this.#status.length < STATUS_BYTES) {
        this.#status += String.fromCharCode(byte);
        if (this.#status.length === STATUS_BYTES && !STATUS_LINE.test(this.#status)) {
          this.#phase = 'foreign';
          return bytes.length;
        }
      }
      if (++this.#headBytes > MAX_RESPONSE_HEAD) {
        this.#phase = 'foreign';
        return bytes.length;
      }
      this.#headEndMatched = byte === HEAD_END[this.#headEndMatched] ? this.#headEndMatched + 1 : byte === 13 ? 1 : 0;
      if (this.#headEndMatched === HEAD_END.length) {
        this.#phase = 'frames';
        return i + 1;
      }
    }
    return i;
  }

  #readFrames(bytes: Uint8Array, from: number): number {
    let i = from;
    while (i < bytes.length) {
      if (this.#payloadLeft > 0) {
        const skip = Math.min(this.#payloadLeft, bytes.length - i);
        this.#payloadLeft -= skip;
        i += skip;
        continue;
      }
      this.#header[this.#headerRead++] = bytes[i++]!;
      const needed = this.#headerLength();
      if (this.#headerRead < needed) continue;
      const length = this.#payloadLength();
      if ((this.#header[0]! & 0x0f) === 0x8) this.#closeWritten = true;
      this.#headerRead = 0;
      if (length === undefined) {
        this.#phase = 'foreign';
        return bytes.length;
      }
      this.#payloadLeft = length;
    }
    return i;
  }

  /** Bytes in the current header, as far as what has been read tells. */
  #headerLength(): number {
    if (this.#headerRead < 2) return 2;
    const second = this.#header[1]!;
    const mask = second & 0x80 ? 4 : 0;
    const short = second & 0x7f;
    return 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + mask;
  }

  #payloadLength(): number | undefined {
    const short = this.#header[1]! & 0x7f;
    if (short < 126) return short;
    if (short === 126) return this.#header.readUInt16BE(2);
    const length = this.#header.readBigUInt64BE(2);
    return length <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(length) : undefined;
  }
}

/** An unmasked (server-to-client) close frame: FIN + opcode 8, status code, a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123); // control payloads are at most 125 bytes
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}
