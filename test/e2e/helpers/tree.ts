/**
 * Trees on disk as plain data that `toEqual` compares: relative path -> kind, size, sha256 and
 * mtime (whole milliseconds, as Ferry carries it). Partial files are found by their names.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TreeEntry {
  kind: 'file' | 'dir' | 'other';
  size: number;
  mtime: number;
  sha256?: string;
}

export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** Everything under `dir`, '/'-separated relative path -> entry, sorted. */
export function readTree(dir: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (abs: string, rel: string): void => {
    for (const name of fs.readdirSync(abs).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(a);
      const mtime = Math.round(st.mtimeMs);
      if (st.isDirectory()) {
        out[r] = { kind: 'dir', size: 0, mtime };
        walk(a, r);
      } else if (st.isFile()) {
        out[r] = { kind: 'file', size: st.size, mtime, sha256: sha256File(a) };
      } else {
        out[r] = { kind: 'other', size: 0, mtime };
      }
    }
  };
  walk(dir, '');
  return out;
}

/** Ferry's hidden partial files and journals (`.NAME[.x].ferrypart`, `.ferryjournal`) under `dir`. */
export function partialFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(abs, e.name), r);
      else if (e.name.startsWith('.') && /\.ferry(part|journal)$/.test(e.name)) found.push(r);
    }
  };
  walk(dir, '');
  return found.sort();
}

/** Write a file of `size` bytes that is mostly a hole: fast to make, real to transfer. */
export function writeSparse(file: string, size: number, marks: Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    // Some non-zero bytes at both ends, so a truncated or zero-filled copy does not pass.
    fs.writeSync(fd, marks, 0, marks.length, 0);
    fs.writeSync(fd, marks, 0, marks.length, size - marks.length);
  } finally {
    fs.closeSync(fd);
  }
}
