/**
 * Integrity hashes. xxh3-128 (@node-rs/xxhash) for blocks and files: measured here at 2.3 GB/s
 * on 1 MiB blocks against 1.7 GB/s for node's SHA-256 and ~0.5 GB/s for BLAKE3 in wasm, and every
 * byte is hashed twice (sender and receiver). It guards against accidental corruption (disk,
 * memory, a buggy middlebox); tampering is the job of the encrypted, authenticated connection
 * (docs/security.md). The file digest is xxh3-128 over the concatenated block digests, so a
 * receiver can check a whole file from the blocks it verified, including blocks from an earlier,
 * interrupted attempt, without reading the file again.
 */
import { xxh3 } from '@node-rs/xxhash';
import { DIGEST_SIZE } from './protocol/constants.js';

const MASK64 = (1n << 64n) - 1n;

function toBytes(v: bigint, out: Buffer = Buffer.allocUnsafe(DIGEST_SIZE), offset = 0): Buffer {
  out.writeBigUInt64BE(v >> 64n, offset);
  out.writeBigUInt64BE(v & MASK64, offset + 8);
  return out;
}

/** xxh3-128 digest of one block, 16 bytes big-endian. */
export function blockDigest(data: Uint8Array): Buffer {
  return toBytes(xxh3.xxh128(data));
}

/** Write a block's digest into `out` at `offset` (avoids an allocation per block). */
export function blockDigestInto(data: Uint8Array, out: Buffer, offset: number): void {
  toBytes(xxh3.xxh128(data), out, offset);
}

/** File digest: xxh3-128 over the block digests in order (`digests` holds them back to back). */
export function fileDigest(digests: Buffer): string {
  return toBytes(xxh3.xxh128(digests)).toString('hex');
}
