// Writes build/icon.png, the 512x512 app icon electron-builder turns into each platform's format
// (it takes one PNG of at least 512x512 for Linux, macOS and Windows). Drawn here rather than
// kept as an opaque binary: a ferry (hull, sail, water) on a rounded blue square.
//   node build/make-icon.mjs
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const SIZE = 512;
const SS = 4; // supersampling per axis, for smooth edges

/**
 * Colour (r, g, b, a in 0..1) of the point (x, y) in 0..SIZE, or null outside the icon.
 * @param {number} x
 * @param {number} y
 * @returns {number[] | null}
 */
function shade(x, y) {
  const r = 104;
  const cx = Math.min(Math.max(x, r + 16), SIZE - r - 16);
  const cy = Math.min(Math.max(y, r + 16), SIZE - r - 16);
  if (Math.hypot(x - cx, y - cy) > r) return null; // outside the rounded square
  /** @type {(y0: number, amp: number) => number} */
  const wave = (y0, amp) => y0 + amp * Math.sin((x / SIZE) * Math.PI * 4);
  const white = [1, 1, 1, 1];
  // Water: two white bands.
  if (Math.abs(y - wave(392, 10)) < 9 || Math.abs(y - wave(432, 10)) < 7) return white;
  // Hull: a trapezoid above the water.
  if (y > 300 && y < 352 && x > 120 + (y - 300) * 0.8 && x < 392 - (y - 300) * 0.8) return white;
  // Sail: a triangle on a mast.
  if (x > 250 && x < 262 && y > 110 && y <= 300) return white;
  if (y > 120 && y < 280 && x > 272 && x < 272 + (y - 120) * 0.62) return white;
  if (y > 150 && y < 280 && x < 240 && x > 240 - (y - 150) * 0.7) return [0.85, 0.93, 1, 1];
  // Background: blue, lighter at the top.
  const t = y / SIZE;
  return [0.1 + 0.05 * (1 - t), 0.42 + 0.15 * (1 - t), 0.78 + 0.1 * (1 - t), 1];
}

const raw = Buffer.alloc((SIZE * 4 + 1) * SIZE);
for (let y = 0; y < SIZE; y++) {
  raw[y * (SIZE * 4 + 1)] = 0; // filter: none
  for (let x = 0; x < SIZE; x++) {
    const acc = [0, 0, 0, 0];
    for (let sy = 0; sy < SS; sy++) {
      for (let sx = 0; sx < SS; sx++) {
        const c = shade(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS);
        if (!c) continue;
        for (let i = 0; i < 3; i++) acc[i] += c[i] * c[3];
        acc[3] += c[3];
      }
    }
    const o = y * (SIZE * 4 + 1) + 1 + x * 4;
    const a = acc[3] / (SS * SS);
    for (let i = 0; i < 3; i++) raw[o + i] = acc[3] ? Math.round((acc[i] / acc[3]) * 255) : 0;
    raw[o + 3] = Math.round(a * 255);
  }
}

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
/** @param {Buffer} buf */
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/**
 * @param {string} type
 * @param {Buffer} data
 */
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'icon.png');
fs.writeFileSync(out, png);
fs.writeSync(1, `wrote ${out} (${png.length} bytes)\n`);
