/**
 * Device IDs: the SHA-256 fingerprint of a device's certificate, written for people the way
 * Syncthing writes its device IDs, so that one person can read it out and another can compare:
 *
 *   base32 (RFC 4648 alphabet, no padding) of the 32 bytes = 52 characters,
 *   4 groups of 13 characters, each followed by one check character (Syncthing's "Luhn mod 32")
 *   = 56 characters, shown as 8 groups of 7 joined by '-':
 *
 *   P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2
 *
 * The check characters catch any single mistyped character (the doubling step is a permutation
 * of 0..31, so one changed character always changes the sum) before the ID is compared with a
 * real fingerprint. The encoding is Syncthing's, check characters included, so its published
 * examples are test vectors here.
 */
import { FerryError } from '../../../shared/errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Bytes in a fingerprint (SHA-256). */
export const FINGERPRINT_SIZE = 32;
/** 256 bits in 5-bit characters, rounded up. */
const BASE32_SIZE = 52;
const GROUP = 13;
/** Characters in a device ID without its dashes. */
export const DEVICE_ID_SIZE = BASE32_SIZE + BASE32_SIZE / GROUP;

function codepoint(c: string): number {
  return ALPHABET.indexOf(c);
}

/**
 * Syncthing's check character for a group (lib/protocol/luhn.go): weights 1, 2, 1, 2, ... from
 * the left, a doubled value folded as (v / 32) + (v % 32), and the character that brings the sum
 * to a multiple of 32. Not the textbook Luhn (which weights from the right), but the same
 * guarantee for single substitutions, and compatible with every Syncthing ID ever printed.
 */
export function luhn32(s: string): string {
  let factor = 1;
  let sum = 0;
  for (const c of s) {
    const cp = codepoint(c);
    if (cp < 0) throw new Error(`"${c}" is not a base32 character`);
    const addend = factor * cp;
    factor = factor === 2 ? 1 : 2;
    sum += Math.floor(addend / 32) + (addend % 32);
  }
  return ALPHABET[(32 - (sum % 32)) % 32]!;
}

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Decode base32 without padding; undefined when the unused low bits are not zero. */
function unbase32(text: string): Buffer | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    value = ((value << 5) | codepoint(c)) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // The last character carries 1 bit of the fingerprint and 4 that must be zero: otherwise two
  // texts would name one device.
  if ((value & ((1 << bits) - 1)) !== 0) return undefined;
  return Buffer.from(out);
}

/** The device ID of a 32-byte fingerprint, as 8 groups of 7 characters. */
export function formatDeviceId(fp: Buffer): string {
  if (fp.length !== FINGERPRINT_SIZE) throw new Error(`a fingerprint has ${FINGERPRINT_SIZE} bytes, not ${fp.length}`);
  const b32 = base32(fp);
  let checked = '';
  for (let k = 0; k < BASE32_SIZE; k += GROUP) {
    const g = b32.slice(k, k + GROUP);
    checked += g + luhn32(g);
  }
  return checked.match(/.{7}/g)!.join('-');
}

function badId(text: string, why: string): FerryError {
  return new FerryError(
    'FERRY_ERR_BAD_ARGUMENT',
    `"${text}" is not a Ferry device ID: ${why}. A device ID has 56 letters and digits in 8 groups of 7, as \`ferry id\` prints it on the other device.`,
  );
}

/**
 * The fingerprint a device ID stands for. Accepts lower case, spaces or no dashes, and the
 * look-alikes 0, 1 and 8 for O, I and B (as Syncthing does); refuses, with words, anything whose
 * check characters do not match: a typo never names another device.
 */
export function parseDeviceId(text: string): Buffer {
  const s = text.toUpperCase().replace(/[\s-]/g, '').replace(/0/g, 'O').replace(/1/g, 'I').replace(/8/g, 'B');
  if (s.length !== DEVICE_ID_SIZE) throw badId(text, `it has ${s.length} characters, not ${DEVICE_ID_SIZE}`);
  const bad = [...s].find((c) => codepoint(c) < 0);
  if (bad !== undefined) throw badId(text, `"${bad}" is not a letter or a digit 2-7`);
  let b32 = '';
  for (let g = 0; g < 4; g++) {
    const group = s.slice(g * (GROUP + 1), g * (GROUP + 1) + GROUP);
    const check = s[g * (GROUP + 1) + GROUP];
    if (luhn32(group) !== check)
      throw badId(text, `a check character does not match (a typo in group ${2 * g + 1} or ${2 * g + 2}?)`);
    b32 += group;
  }
  const fp = unbase32(b32);
  if (!fp || fp.length !== FINGERPRINT_SIZE) throw badId(text, 'its last group is not a possible ending');
  return fp;
}

/** True when `text` is a well-formed device ID (check characters included). */
export function isDeviceId(text: string): boolean {
  try {
    parseDeviceId(text);
    return true;
  } catch {
    return false;
  }
}

/** The same device ID in its canonical form (upper case, 8 dashed groups). */
export function normalizeDeviceId(text: string): string {
  return formatDeviceId(parseDeviceId(text));
}

/** The first group of a device ID, for lists and log lines (Syncthing's short ID). */
export function shortDeviceId(id: string): string {
  return id.toUpperCase().replace(/[\s-]/g, '').slice(0, 7);
}
