/**
 * Frame codec. The decoder is a small state machine fed arbitrary slices of the byte stream
 * (ws `lib/receiver.js`, VS Code `ChunkStream`): it never assumes that one `data` event is one
 * message, checks every announced length against its limit before allocating, and copies a body
 * only when it spans chunks.
 */
import { FerryError } from '../../../shared/errors.js';
import {
  BLOCK_HEADER_SIZE,
  DIGEST_SIZE,
  FRAME_CONTROL,
  FRAME_DATA,
  FRAME_HEADER_SIZE,
  MAGIC,
  MAX_CONTROL_SIZE,
  MAX_DATA_FRAME_SIZE,
  PREAMBLE_SIZE,
  PROTOCOL_VERSION,
} from './constants.js';

export interface BlockHeader {
  transfer: number;
  file: number;
  block: number;
  flags: number;
  /** Digest of the payload (hash.ts), 16 bytes. */
  digest: Buffer;
}

export type Frame =
  { type: typeof FRAME_CONTROL; body: Buffer } | { type: typeof FRAME_DATA; header: BlockHeader; payload: Buffer };

export function encodePreamble(version = PROTOCOL_VERSION): Buffer {
  const b = Buffer.alloc(PREAMBLE_SIZE);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt16BE(version, 4);
  return b;
}

/** One control frame: header and UTF-8 JSON body in a single buffer. */
export function encodeControl(message: object): Buffer {
  const json = JSON.stringify(message);
  const len = Buffer.byteLength(json);
  if (len > MAX_CONTROL_SIZE) {
    throw new FerryError('FERRY_ERR_INTERNAL', `Control message of ${len} bytes exceeds the limit`);
  }
  const b = Buffer.allocUnsafe(FRAME_HEADER_SIZE + len);
  b.writeUInt32BE(len, 0);
  b.writeUInt8(FRAME_CONTROL, 4);
  b.writeUInt8(0, 5);
  b.writeUInt16BE(0, 6);
  b.write(json, FRAME_HEADER_SIZE, 'utf8');
  return b;
}

/**
 * Frame header plus block header for a data frame, as one 40-byte buffer; the payload is written
 * after it as its own buffer so that file data is never copied to build a frame.
 */
export function encodeDataHead(
  h: BlockHeader,
  payloadLength: number,
  b: Buffer = Buffer.allocUnsafe(FRAME_HEADER_SIZE + BLOCK_HEADER_SIZE),
): Buffer {
  b.writeUInt32BE(BLOCK_HEADER_SIZE + payloadLength, 0);
  b.writeUInt8(FRAME_DATA, 4);
  b.writeUInt8(0, 5);
  b.writeUInt16BE(0, 6);
  const o = FRAME_HEADER_SIZE;
  b.writeUInt32BE(h.transfer, o);
  b.writeUInt32BE(h.file, o + 4);
  b.writeUInt32BE(h.block, o + 8);
  b.writeUInt32BE(h.flags, o + 12);
  h.digest.copy(b, o + 16, 0, DIGEST_SIZE);
  return b;
}

export interface DecoderLimits {
  maxControlSize?: number;
  maxDataFrameSize?: number;
  /** Allocates the buffer a frame spanning several chunks is copied into (a pool, for blocks). */
  alloc?: (n: number) => Buffer;
}

const enum State {
  Preamble,
  Header,
  Body,
}

/**
 * Streaming decoder. `push()` any slice of the stream; it calls `onPreamble` once, then
 * `onFrame` per complete frame, and throws a FerryError on the first bad byte (the caller then
 * destroys the connection: one exit path).
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private state: State;
  private needed: number;
  private frameType = 0;
  private readonly maxControl: number;
  private readonly maxData: number;
  private readonly alloc: (n: number) => Buffer;
  /** Set when a handler asked to stop (the connection is being destroyed). */
  private stopped = false;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly onPreamble: (version: number) => void,
    limits: DecoderLimits = {},
  ) {
    this.state = State.Preamble;
    this.needed = PREAMBLE_SIZE;
    this.maxControl = limits.maxControlSize ?? MAX_CONTROL_SIZE;
    this.maxData = limits.maxDataFrameSize ?? MAX_DATA_FRAME_SIZE;
    this.alloc = limits.alloc ?? ((n) => Buffer.allocUnsafe(n));
  }

  /** Bytes received but not yet decoded into a frame (a stream that ends here was truncated). */
  get pending(): number {
    return this.buffered;
  }

  /** True when the stream stopped inside a frame (or a frame's header promised a body). */
  get truncated(): boolean {
    return this.buffered > 0 || this.state === State.Body;
  }

  stop(): void {
    this.stopped = true;
    this.chunks.length = 0;
    this.buffered = 0;
  }

  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.stopped && this.buffered >= this.needed) {
      const bytes = this.take(this.needed);
      switch (this.state) {
        case State.Preamble:
          this.preamble(bytes);
          break;
        case State.Header:
          this.header(bytes);
          break;
        case State.Body:
          this.body(bytes);
          break;
      }
    }
  }

  /** Take exactly n buffered bytes: a slice of the first chunk when it holds them all, else one copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = this.alloc(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const want = n - off;
      if (c.length <= want) {
        c.copy(out, off);
        off += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, off, 0, want);
        this.chunks[0] = c.subarray(want);
        off += want;
      }
    }
    return out;
  }

  private preamble(b: Buffer): void {
    if (b.readUInt32BE(0) !== MAGIC) {
      throw new FerryError('FERRY_ERR_BAD_MAGIC', 'The peer is not speaking the Ferry protocol');
    }
    const version = b.readUInt16BE(4);
    if (b.readUInt16BE(6) !== 0) throw new FerryError('FERRY_ERR_PROTOCOL', 'Preamble has reserved bits set');
    this.state = State.Header;
    this.needed = FRAME_HEADER_SIZE;
    this.onPreamble(version);
  }

  private header(b: Buffer): void {
    const length = b.readUInt32BE(0);
    const type = b.readUInt8(4);
    if (b.readUInt8(5) !== 0 || b.readUInt16BE(6) !== 0) {
      throw new FerryError('FERRY_ERR_PROTOCOL', 'Frame header has reserved bits set');
    }
    if (type === FRAME_CONTROL) {
      if (length > this.maxControl) {
        throw new FerryError(
          'FERRY_ERR_FRAME_TOO_LARGE',
          `Control frame of ${length} bytes exceeds the ${this.maxControl}-byte limit`,
        );
      }
    } else if (type === FRAME_DATA) {
      if (length > this.maxData) {
        throw new FerryError(
          'FERRY_ERR_FRAME_TOO_LARGE',
          `Data frame of ${length} bytes exceeds the ${this.maxData}-byte limit`,
        );
      }
      if (length < BLOCK_HEADER_SIZE) {
        throw new FerryError('FERRY_ERR_PROTOCOL', 'Data frame shorter than its block header');
      }
    } else {
      throw new FerryError('FERRY_ERR_PROTOCOL', `Unknown frame type ${type}`);
    }
    this.frameType = type;
    this.state = State.Body;
    this.needed = length;
    if (length === 0) this.body(Buffer.alloc(0));
  }

  private body(b: Buffer): void {
    this.state = State.Header;
    this.needed = FRAME_HEADER_SIZE;
    if (this.frameType === FRAME_CONTROL) {
      this.onFrame({ type: FRAME_CONTROL, body: b });
      return;
    }
    const header: BlockHeader = {
      transfer: b.readUInt32BE(0),
      file: b.readUInt32BE(4),
      block: b.readUInt32BE(8),
      flags: b.readUInt32BE(12),
      digest: b.subarray(16, 16 + DIGEST_SIZE),
    };
    this.onFrame({ type: FRAME_DATA, header, payload: b.subarray(BLOCK_HEADER_SIZE) });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode a control body: strict UTF-8 (invalid bytes are refused, not replaced, so a hostile
 * path cannot hide behind U+FFFD) and a JSON object with a string `t`.
 */
export function decodeControl(body: Buffer): { t: string } & Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (cause) {
    throw new FerryError('FERRY_ERR_PROTOCOL', 'Control message is not valid UTF-8', { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new FerryError('FERRY_ERR_PROTOCOL', 'Control message is not valid JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FerryError('FERRY_ERR_PROTOCOL', 'Control message is not an object');
  }
  const t = (value as Record<string, unknown>).t;
  if (typeof t !== 'string') {
    throw new FerryError('FERRY_ERR_PROTOCOL', 'Control message has no type');
  }
  return value as { t: string } & Record<string, unknown>;
}
