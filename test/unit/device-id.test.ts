/**
 * Device IDs: Syncthing's format (its published examples are the test vectors), round trips for
 * any fingerprint, and every single-character typo caught by the check characters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_ID_SIZE,
  formatDeviceId,
  isDeviceId,
  luhn32,
  normalizeDeviceId,
  parseDeviceId,
  shortDeviceId,
} from '../../electron/core/identity/device-id.js';
import { codeOf } from '../helpers/errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** A real Syncthing device ID (lib/protocol/deviceid_test.go). */
const SYNCTHING_ID = 'P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2';

describe('device ID format (Syncthing compatible)', () => {
  it('computes Syncthing check characters', () => {
    // Check characters published with Syncthing-compatible implementations.
    expect(luhn32('WG2IWWALPC2HZ')).toBe('H');
    expect(luhn32('KHQNO2S5QSILR')).toBe('K');
    expect(luhn32('MFZWI3DBONSGY')).toBe('C');
  });

  it('parses a real Syncthing ID and formats it back identically', () => {
    const fp = parseDeviceId(SYNCTHING_ID);
    expect(fp.length).toBe(32);
    expect(formatDeviceId(fp)).toBe(SYNCTHING_ID);
  });

  it('accepts lower case, spaces, missing dashes and the look-alikes 0, 1, 8', () => {
    const fp = parseDeviceId(SYNCTHING_ID);
    for (const text of [
      'p56ioi7-mzjnu2y-iqgdrey-dm2mgti-mgl3bxn-pq6w5bm-tbbz4tj-xzwicq2',
      'P56IOI7 MZJNU2Y IQGDREY DM2MGTI MGL3BXN PQ6W5BM TBBZ4TJ XZWICQ2',
      'P56IOI7MZJNU2YIQGDREYDM2MGTIMGL3BXNPQ6W5BMTBBZ4TJXZWICQ2',
      ' P561017MZJNU2YIQGDREYDM2MGTIMGL3BXNPQ6W5BMT88Z4TJXZWICQ2\n',
    ]) {
      expect(parseDeviceId(text).equals(fp), text).toBe(true);
      expect(normalizeDeviceId(text)).toBe(SYNCTHING_ID);
    }
  });

  it('shows 8 groups of 7, and the first group as the short ID', () => {
    const id = formatDeviceId(Buffer.alloc(32, 0xab));
    expect(id).toMatch(/^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/);
    expect(shortDeviceId(id)).toBe(id.slice(0, 7));
    expect(shortDeviceId(id.toLowerCase().replace(/-/g, ''))).toBe(id.slice(0, 7));
  });

  it('refuses, with FERRY_ERR_BAD_ARGUMENT, the wrong length, foreign characters and a non-canonical ending', () => {
    expect(codeOf(() => parseDeviceId(''))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(codeOf(() => parseDeviceId(SYNCTHING_ID.slice(0, -1)))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(codeOf(() => parseDeviceId(SYNCTHING_ID + 'A'))).toBe('FERRY_ERR_BAD_ARGUMENT');
    // Syncthing's old 52-character form has no check characters: not accepted here.
    expect(codeOf(() => parseDeviceId('P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQ'))).toBe(
      'FERRY_ERR_BAD_ARGUMENT',
    );
    expect(codeOf(() => parseDeviceId(SYNCTHING_ID.replace('P56', 'P5!')))).toBe('FERRY_ERR_BAD_ARGUMENT');
    // The last base32 character carries one bit; its four unused bits must be zero, or two texts
    // would name one device. 'XZWICQ' + check: change Q (16 = 10000b) to R (17) and fix the check.
    const s = SYNCTHING_ID.replace(/-/g, '');
    const lastGroup = s.slice(42, 55).replace(/Q$/, 'R');
    const forged = s.slice(0, 42) + lastGroup + luhn32(lastGroup);
    expect(codeOf(() => parseDeviceId(forged))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(isDeviceId(forged)).toBe(false);
    expect(isDeviceId(SYNCTHING_ID)).toBe(true);
  });

  it('refuses a fingerprint of the wrong size', () => {
    expect(() => formatDeviceId(Buffer.alloc(31))).toThrow();
  });
});

describe('device ID properties', () => {
  const fingerprint = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));

  it('round-trips every fingerprint', () => {
    fc.assert(
      fc.property(fingerprint, (fp) => {
        const id = formatDeviceId(fp);
        expect(id.replace(/-/g, '').length).toBe(DEVICE_ID_SIZE);
        expect(parseDeviceId(id).equals(fp)).toBe(true);
        expect(parseDeviceId(id.toLowerCase().replace(/-/g, ' ')).equals(fp)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('detects any single-character change', () => {
    fc.assert(
      fc.property(
        fingerprint,
        fc.nat({ max: DEVICE_ID_SIZE - 1 }),
        fc.integer({ min: 1, max: 31 }),
        (fp, pos, delta) => {
          const s = formatDeviceId(fp).replace(/-/g, '');
          const changed = ALPHABET[(ALPHABET.indexOf(s[pos]!) + delta) % 32]!;
          const typo = s.slice(0, pos) + changed + s.slice(pos + 1);
          expect(codeOf(() => parseDeviceId(typo))).toBe('FERRY_ERR_BAD_ARGUMENT');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('detects every single-character change of one ID, exhaustively', () => {
    const s = SYNCTHING_ID.replace(/-/g, '');
    let checked = 0;
    for (let pos = 0; pos < s.length; pos++) {
      for (const c of ALPHABET) {
        if (c === s[pos]) continue;
        expect(isDeviceId(s.slice(0, pos) + c + s.slice(pos + 1)), `${pos}:${c}`).toBe(false);
        checked++;
      }
    }
    expect(checked).toBe(56 * 31);
  });
});
