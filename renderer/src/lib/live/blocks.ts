/**
 * The block bytes of a LiveSnapshot: base64 of one byte per block (BLOCK_* in shared/contract).
 * Decoded here without atob, so it is pure and runs anywhere.
 */
import {
  BLOCK_FAILED,
  BLOCK_INFLIGHT,
  BLOCK_PENDING,
  BLOCK_RETRIED,
  BLOCK_VERIFIED,
} from '../../../../shared/contract.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** Decode base64 into bytes; `into` is reused when it has the right length. */
export function decodeBase64(text: string, into?: Uint8Array): Uint8Array {
  let len = text.length;
  while (len > 0 && text.charCodeAt(len - 1) === 61 /* = */) len--;
  const n = Math.floor((len * 3) / 4);
  const out = into && into.length === n ? into : new Uint8Array(n);
  const at = (i: number) => (i < len ? (LOOKUP[text.charCodeAt(i) & 127] ?? 0) : 0);
  let j = 0;
  for (let i = 0; i < len; i += 4) {
    const a = at(i);
    const b = at(i + 1);
    const c = at(i + 2);
    const d = at(i + 3);
    out[j++] = (a << 2) | (b >> 4);
    if (j < n) out[j++] = ((b & 15) << 4) | (c >> 2);
    if (j < n) out[j++] = ((c & 3) << 6) | d;
  }
  return out;
}

/**
 * How much a state tells, for a cell that stands for several blocks: a failure first, then
 * activity, then what is done, then what waits.
 */
export const STATE_RANK: readonly number[] = (() => {
  const r: number[] = [];
  r[BLOCK_PENDING] = 0;
  r[BLOCK_VERIFIED] = 1;
  r[BLOCK_RETRIED] = 2;
  r[BLOCK_INFLIGHT] = 3;
  r[BLOCK_FAILED] = 4;
  return r;
})();

/** Blocks whose bytes are in place and checked (verified, including after a retry). */
export function isDone(state: number): boolean {
  return state === BLOCK_VERIFIED || state === BLOCK_RETRIED;
}
