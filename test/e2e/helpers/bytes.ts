/**
 * Deterministic file contents from a seed, computed the same way in Node (to know what should
 * land) and in the page (to build the File objects a person would drop). `detBytes` is
 * self-contained on purpose: its source text is installed into the page as it is.
 */
import { createHash } from 'node:crypto';

/**
 * `size` bytes of xorshift32 output seeded by `seed`, little-endian words. Not random in any
 * strong sense; it only has to be the same everywhere and not compress or dedupe into nothing.
 */
export function detBytes(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let x = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995) >>> 0 || 1;
  const step = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  let i = 0;
  for (; i + 4 <= size; i += 4) view.setUint32(i, step(), true);
  for (; i < size; i++) out[i] = step() & 0xff;
  return out;
}

/** The page-side install of detBytes, for `page.addInitScript({ content })`. */
export const DET_BYTES_SCRIPT = `globalThis.__ferryDetBytes = ${detBytes.toString()};`;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A file to drop: its name, contents by seed and size, and its modification time. */
export interface DropFile {
  name: string;
  seed: number;
  size: number;
  /** File.lastModified, ms since the epoch. */
  mtime: number;
}

export const MiB = 1024 * 1024;
