/** Block arithmetic shared by sender, receiver and journal. */
import { MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, TARGET_BLOCKS_PER_FILE } from './protocol/constants.js';

/** Block size for a file: MIN_BLOCK_SIZE, doubled until the file has at most ~2,048 blocks. */
export function chooseBlockSize(size: number): number {
  let bs = MIN_BLOCK_SIZE;
  while (bs < MAX_BLOCK_SIZE && size / bs > TARGET_BLOCKS_PER_FILE) bs *= 2;
  return bs;
}

/** Number of blocks of a file; an empty file has one empty block so it still travels and verifies. */
export function blockCount(size: number, bs: number): number {
  return size === 0 ? 1 : Math.ceil(size / bs);
}

export function blockLength(size: number, bs: number, index: number): number {
  return Math.max(0, Math.min(bs, size - index * bs));
}

/** A fixed-size bitmap, base64 on the wire (resume replies). */
export class Bitmap {
  readonly bytes: Uint8Array;
  constructor(
    readonly size: number,
    bytes?: Uint8Array,
  ) {
    this.bytes = bytes ?? new Uint8Array(Math.ceil(size / 8));
  }
  static fromBase64(size: number, b64: string): Bitmap {
    const raw = Buffer.from(b64, 'base64');
    const bm = new Bitmap(size);
    bm.bytes.set(raw.subarray(0, bm.bytes.length));
    return bm;
  }
  get(i: number): boolean {
    return ((this.bytes[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
  }
  set(i: number): void {
    this.bytes[i >> 3] = (this.bytes[i >> 3] ?? 0) | (1 << (i & 7));
  }
  count(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.get(i)) n++;
    return n;
  }
  toBase64(): string {
    return Buffer.from(this.bytes).toString('base64');
  }
}
