/**
 * Temporary folders for tests: real directories under os.tmpdir(), removed afterwards, plus a
 * way to write a small tree in one call and to read one back as plain data that `toEqual` can
 * compare (relative path -> kind, sha256, size, mtime).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

const pending = new Set<string>();

function remove(dir: string): void {
  pending.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

// Folders made outside a running test (in beforeAll, at collection) go when the file's tests end;
// the exit hook is the last resort for a run that is killed between the two.
afterAll(() => {
  for (const dir of [...pending]) remove(dir);
});
process.once('exit', () => {
  for (const dir of [...pending]) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // nothing more can be done while exiting
    }
  }
});

/**
 * A new empty folder under os.tmpdir(), as its real path (os.tmpdir() is a link on macOS, and
 * servers compare real paths). Removed when the current test ends, or when the file's tests end
 * if it was made outside a test (in beforeAll).
 */
export function makeTmp(prefix = 'ferry-test-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  pending.add(dir);
  try {
    onTestFinished(() => remove(dir));
  } catch {
    // not inside a test: the afterAll above removes it
  }
  return dir;
}

/** Contents of a tree to write: text, bytes, or null for a folder. Parents are created as needed. */
export type TreeSpec = Record<string, string | Buffer | null>;

/** Write `tree` under `dir`; keys are '/'-separated relative paths. */
export function writeTree(dir: string, tree: TreeSpec): void {
  for (const [rel, contents] of Object.entries(tree)) {
    const abs = path.join(dir, ...rel.split('/'));
    if (contents === null) {
      fs.mkdirSync(abs, { recursive: true });
    } else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, contents);
    }
  }
}

export { readTree, sha256File, type TreeEntry } from './tree.js';
