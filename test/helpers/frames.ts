/**
 * Helpers for codec and protocol tests: build Ferry byte streams from plain frame descriptions,
 * feed them to a FrameDecoder in chosen slices, and compare what comes out as plain data.
 * Also one valid example of every control message, keyed by type so that the compiler (tsc -b)
 * refuses to build the tests when a message type is added without an example.
 */
import { FerryError, type ErrorCode } from '../../shared/errors.js';
import {
  type BlockHeader,
  type DecoderLimits,
  encodeControl,
  encodeDataHead,
  encodePreamble,
  type Frame,
  FrameDecoder,
} from '../../electron/core/protocol/codec.js';
import { FRAME_CONTROL } from '../../electron/core/protocol/constants.js';
import type { Message, MessageType } from '../../electron/core/protocol/messages.js';

/** A frame to put on the wire. */
export type FrameSpec = { kind: 'control'; message: object } | { kind: 'data'; header: BlockHeader; payload: Buffer };

/** A frame as plain, comparable data (bodies and digests as hex). */
export type PlainFrame =
  | { kind: 'control'; body: string }
  | { kind: 'data'; transfer: number; file: number; block: number; flags: number; digest: string; payload: string };

export function encodeFrame(f: FrameSpec): Buffer {
  if (f.kind === 'control') return encodeControl(f.message);
  return Buffer.concat([encodeDataHead(f.header, f.payload.length), f.payload]);
}

/** Preamble followed by every frame, as one buffer. */
export function encodeStream(frames: readonly FrameSpec[], version?: number): Buffer {
  return Buffer.concat([encodePreamble(version), ...frames.map(encodeFrame)]);
}

/** What the decoder should produce for a spec. */
export function plainSpec(f: FrameSpec): PlainFrame {
  if (f.kind === 'control') return { kind: 'control', body: Buffer.from(JSON.stringify(f.message)).toString('hex') };
  const h = f.header;
  return {
    kind: 'data',
    transfer: h.transfer,
    file: h.file,
    block: h.block,
    flags: h.flags,
    digest: h.digest.subarray(0, 16).toString('hex'),
    payload: f.payload.toString('hex'),
  };
}

/** Copy a decoded frame out into plain data (decoded buffers may be views of the input). */
export function plainFrame(f: Frame): PlainFrame {
  if (f.type === FRAME_CONTROL) return { kind: 'control', body: f.body.toString('hex') };
  const h = f.header;
  return {
    kind: 'data',
    transfer: h.transfer,
    file: h.file,
    block: h.block,
    flags: h.flags,
    digest: h.digest.toString('hex'),
    payload: f.payload.toString('hex'),
  };
}

export interface Decoded {
  versions: number[];
  frames: PlainFrame[];
  pending: number;
}

/** Feed the chunks in order to a fresh decoder; throws whatever the decoder throws. */
export function decodeChunks(chunks: Iterable<Buffer>, limits?: DecoderLimits): Decoded {
  const out: Decoded = { versions: [], frames: [], pending: 0 };
  const d = new FrameDecoder(
    (f) => out.frames.push(plainFrame(f)),
    (v) => out.versions.push(v),
    limits,
  );
  for (const c of chunks) d.push(c);
  out.pending = d.pending;
  return out;
}

/** Split a buffer at the given offsets (any order, duplicates and out-of-range values ignored). */
export function sliceAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** One-byte chunks, each its own buffer (no shared backing store with the input). */
export function bytewise(buf: Buffer): Buffer[] {
  return Array.from(buf, (b) => Buffer.from([b]));
}

/** The FerryError code `fn` throws, 'OK' if it returns, or a marker naming a foreign error. */
export function codeOf(fn: () => unknown): ErrorCode | 'OK' | `NOT A FERRYERROR: ${string}` {
  try {
    fn();
    return 'OK';
  } catch (err) {
    if (err instanceof FerryError) return err.code;
    return `NOT A FERRYERROR: ${String(err)}`;
  }
}

/** A deterministic 16-byte digest-shaped buffer. */
export function fakeDigest(seed: number): Buffer {
  return Buffer.from(Array.from({ length: 16 }, (_, k) => (seed * 31 + k * 7) & 0xff));
}

/** The 8-byte frame header of the spec in docs/protocol.md, with every field settable. */
export function rawFrameHeader(length: number, type: number, flags = 0, reserved = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(length, 0);
  b.writeUInt8(type, 4);
  b.writeUInt8(flags, 5);
  b.writeUInt16BE(reserved, 6);
  return b;
}

/**
 * One valid example of every control message. The mapped type makes this list complete: a new
 * message type without an example here fails `tsc -b`. docs/protocol.md shows the same set.
 */
export const EXAMPLE_MESSAGES: { [K in MessageType]: Extract<Message, { t: K }> } = {
  hello: {
    t: 'hello',
    name: 'studio-mac',
    device: '3f9a1c0e5b7d2468',
    caps: ['blocks-xxh64x2', 'resume', 'multi-socket', 'list-parts'],
  },
  error: { t: 'error', code: 3, message: 'The peer speaks Ferry protocol version 2; this Ferry speaks version 1.' },
  ping: { t: 'ping', id: 7 },
  pong: { t: 'pong', id: 7 },
  list: { t: 'list', req: 1, path: 'photos/2024' },
  'list-part': {
    t: 'list-part',
    req: 1,
    entries: [
      { name: 'cat.jpg', kind: 'file', size: 48213, mtime: 1718000000000 },
      { name: 'trips', kind: 'dir', size: 0, mtime: 1718000100000 },
    ],
  },
  'list-end': { t: 'list-end', req: 1, total: 2 },
  fail: { t: 'fail', req: 1, code: 11, message: '"photos/2025" does not exist in the shared folder.' },
  get: { t: 'get', xfer: 2, paths: ['photos/2024'] },
  offer: {
    t: 'offer',
    xfer: 1,
    files: [
      { path: 'album', kind: 'dir', size: 0, mtime: 1718000000000, bs: 1048576 },
      { path: 'album/cat.jpg', kind: 'file', size: 3145728, mtime: 1718000000000, bs: 1048576 },
    ],
    to: 'inbox',
    conflict: 'rename',
    last: true,
  },
  reply: { t: 'reply', xfer: 1, d: [{ i: 1, a: 'send' }], last: true },
  ack: { t: 'ack', xfer: 1, b: [1, 0, 1, 1] },
  nack: { t: 'nack', xfer: 1, f: 1, b: 2, code: 18 },
  end: { t: 'end', xfer: 1, f: 1, root: '8d1f0b7c2e4a6f3b9c5d1e7f2a4b6c8d' },
  'skip-file': {
    t: 'skip-file',
    xfer: 1,
    f: 1,
    code: 19,
    message: 'album/cat.jpg changed while it was being sent; send it again',
  },
  landed: { t: 'landed', xfer: 1, files: [{ f: 1, path: 'inbox/album/cat.jpg' }] },
  done: { t: 'done', xfer: 1 },
  complete: { t: 'complete', xfer: 1 },
  cancel: { t: 'cancel', xfer: 1, code: 20, message: 'The transfer was cancelled' },
  'pair-commit': { t: 'pair-commit', commitment: 'ab'.repeat(32) },
  'pair-nonce': { t: 'pair-nonce', nonce: 'cd'.repeat(32) },
  'pair-reveal': { t: 'pair-reveal', nonce: 'ef'.repeat(32) },
  'pair-result': { t: 'pair-result', accepted: true },
};

/** Optional top-level fields per type; every other field of an example is required. */
export const OPTIONAL_FIELDS: Partial<Record<MessageType, readonly string[]>> = {
  hello: ['session', 'key', 'join'],
  offer: ['to', 'conflict'],
};
