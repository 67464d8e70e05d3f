/**
 * Trees on disk as plain data that `toEqual` compares: relative path -> kind, size, sha256,
 * mtime (whole milliseconds, as Ferry carries it) and a link's target. No test framework here:
 * vitest tests and the Playwright end-to-end tests both use it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TreeEntry {
  kind: 'file' | 'dir' | 'link' | 'other';
  /** sha256 of a file's bytes, hex. */
  sha256?: string;
  size: number;
  /** Modification time in whole milliseconds, rounded as Ferry rounds it on the wire. */
  mtime: number;
  /** Where a symbolic link points (links are never followed). */
  target?: string;
}

/** sha256 of a file, read in 4 MiB pieces (test files reach hundreds of MiB). */
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

/** Everything under `dir`, '/'-separated relative path -> entry, in sorted order. */
export function readTree(dir: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (abs: string, rel: string): void => {
    for (const name of fs.readdirSync(abs).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(a);
      const mtime = Math.round(st.mtimeMs);
      if (st.isSymbolicLink()) {
        out[r] = { kind: 'link', size: 0, mtime, target: fs.readlinkSync(a) };
      } else if (st.isDirectory()) {
        out[r] = { kind: 'dir', size: 0, mtime };
        walk(a, r);
      } else if (st.isFile()) {
        out[r] = { kind: 'file', sha256: sha256File(a), size: st.size, mtime };
      } else {
        out[r] = { kind: 'other', size: 0, mtime };
      }
    }
  };
  walk(dir, '');
  return out;
}
