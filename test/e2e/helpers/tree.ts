/**
 * Trees on disk as plain data that `toEqual` compares: relative path -> kind, size, sha256 and
 * mtime (whole milliseconds, as Ferry carries it). Partial files are found by their names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export { readTree, sha256File, type TreeEntry } from '../../helpers/tree.js';

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
