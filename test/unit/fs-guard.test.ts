import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FerryError } from '../../shared/errors.js';
import { fsError, realInside, resolveInside } from '../../electron/core/fs-guard.js';

/** The FerryError code a promise rejects with, or 'OK'. */
async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (err instanceof FerryError) return err.code;
    return `NOT A FERRYERROR: ${String(err)}`;
  }
}

function errno(code: string, message = `${code}: something failed`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

// Symlinks need special privileges on Windows; the guard's logic is the same there.
const noLinks = process.platform === 'win32';
const itLinks = (name: string, fn: () => Promise<void> | void): void =>
  it.skipIf(noLinks)(noLinks ? `${name} (skipped: symlinks need administrator rights on Windows)` : name, fn);

let base: string; // temp dir holding the share and an "outside" folder
let root: string; // the shared folder (as given, maybe not real)
let realRoot: string;
let outside: string;

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-fs-guard-'));
  root = path.join(base, 'share');
  outside = path.join(base, 'outside');
  await fs.mkdir(path.join(root, 'a', 'b'), { recursive: true });
  await fs.writeFile(path.join(root, 'a', 'b', 'c.txt'), 'inside');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'secret');
  realRoot = await fs.realpath(root); // os.tmpdir() is itself a link on macOS
});

afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

describe('resolveInside', () => {
  it('resolves a plain nested file', async () => {
    const p = await resolveInside(root, ['a', 'b', 'c.txt'], { mustExist: true });
    expect(p).toBe(path.join(realRoot, 'a', 'b', 'c.txt'));
    expect(await fs.readFile(p, 'utf8')).toBe('inside');
  });

  it('resolves the root itself for no components', async () => {
    expect(await resolveInside(root, [])).toBe(realRoot);
  });

  it('allows a path that does not exist yet', async () => {
    expect(await resolveInside(root, ['a', 'new', 'deeper', 'f.txt'])).toBe(
      path.join(realRoot, 'a', 'new', 'deeper', 'f.txt'),
    );
  });

  it('mustExist on a missing file gives NOT_FOUND', async () => {
    expect(await codeOfAsync(resolveInside(root, ['a', 'missing.txt'], { mustExist: true }))).toBe(
      'FERRY_ERR_NOT_FOUND',
    );
    expect(await codeOfAsync(resolveInside(root, ['nope', 'x'], { mustExist: true }))).toBe('FERRY_ERR_NOT_FOUND');
  });

  it('a missing root gives NOT_FOUND', async () => {
    expect(await codeOfAsync(resolveInside(path.join(base, 'no-such-share'), ['x']))).toBe('FERRY_ERR_NOT_FOUND');
  });

  it('a file used as a folder gives NOT_A_DIRECTORY', async () => {
    expect(await codeOfAsync(resolveInside(root, ['a', 'b', 'c.txt', 'x']))).toBe('FERRY_ERR_NOT_A_DIRECTORY');
  });

  it('refuses components that are not plain names', async () => {
    for (const bad of [['..'], ['a', '..', '..'], ['.'], [''], ['a/b'], ['x\0y']]) {
      expect(await codeOfAsync(resolveInside(root, bad))).toBe('FERRY_ERR_BAD_PATH');
    }
  });

  itLinks('refuses a symlink inside the root that points to a file outside', async () => {
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'leak.txt'));
    expect(await codeOfAsync(resolveInside(root, ['leak.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
    expect(await codeOfAsync(resolveInside(root, ['leak.txt'], { mustExist: true }))).toBe('FERRY_ERR_OUTSIDE_ROOT');
  });

  itLinks('refuses a relative symlink that climbs out with ".."', async () => {
    await fs.symlink('../../../outside/secret.txt', path.join(root, 'a', 'b', 'up.txt'));
    expect(await codeOfAsync(resolveInside(root, ['a', 'b', 'up.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
  });

  itLinks('refuses existing and not-yet-existing files under a symlinked directory pointing outside', async () => {
    await fs.symlink(outside, path.join(root, 'a', 'escape'), 'dir');
    expect(await codeOfAsync(resolveInside(root, ['a', 'escape', 'secret.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
    expect(await codeOfAsync(resolveInside(root, ['a', 'escape', 'new-file.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
    expect(await codeOfAsync(resolveInside(root, ['a', 'escape', 'new-dir', 'f.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
    expect(await codeOfAsync(resolveInside(root, ['a', 'escape']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
  });

  itLinks('refuses a dangling symlink that would create a file outside', async () => {
    await fs.symlink(path.join(outside, 'planted.txt'), path.join(root, 'dangling.txt'));
    expect(await codeOfAsync(resolveInside(root, ['dangling.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
    await fs.symlink(path.join(outside, 'no-dir'), path.join(root, 'dangling-dir'));
    expect(await codeOfAsync(resolveInside(root, ['dangling-dir', 'x.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
  });

  itLinks('follows a dangling link through a link chain the way the kernel does', async () => {
    // root/hop -> root/a/b. The kernel applies ".." to the real folder root/a/b, so
    // hop/../../x-new.txt is root/x-new.txt (inside); read textually it would be base/x-new.txt.
    await fs.symlink(path.join(root, 'a', 'b'), path.join(root, 'hop'), 'dir');
    await fs.symlink('hop/../../x-new.txt', path.join(root, 'd1'));
    expect(await codeOfAsync(resolveInside(root, ['d1']))).toBe('OK'); // -> root/x-new.txt
    // One more ".." really does climb out: root/a/b -> root/a -> root -> base/outside.
    await fs.symlink('hop/../../../outside/planted.txt', path.join(root, 'd2'));
    expect(await codeOfAsync(resolveInside(root, ['d2']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
  });

  itLinks('allows a dangling symlink that points inside (not with mustExist)', async () => {
    await fs.symlink(path.join(root, 'a', 'later.txt'), path.join(root, 'to-later.txt'));
    expect(await resolveInside(root, ['to-later.txt'])).toBe(path.join(realRoot, 'to-later.txt'));
    expect(await codeOfAsync(resolveInside(root, ['to-later.txt'], { mustExist: true }))).toBe('FERRY_ERR_NOT_FOUND');
  });

  itLinks('allows symlinks that stay inside the root', async () => {
    await fs.symlink(path.join(root, 'a', 'b', 'c.txt'), path.join(root, 'alias.txt'));
    await fs.symlink('a/b', path.join(root, 'shortcut'), 'dir');
    expect(await resolveInside(root, ['alias.txt'], { mustExist: true })).toBe(path.join(realRoot, 'alias.txt'));
    const p = await resolveInside(root, ['shortcut', 'c.txt'], { mustExist: true });
    expect(p).toBe(path.join(realRoot, 'shortcut', 'c.txt'));
    expect(await fs.readFile(p, 'utf8')).toBe('inside');
    expect(await resolveInside(root, ['shortcut', 'new.txt'])).toBe(path.join(realRoot, 'shortcut', 'new.txt'));
  });

  itLinks('works when the root itself is given as a symlink', async () => {
    const linkRoot = path.join(base, 'share-link');
    await fs.symlink(root, linkRoot, 'dir');
    const p = await resolveInside(linkRoot, ['a', 'b', 'c.txt'], { mustExist: true });
    expect(p).toBe(path.join(realRoot, 'a', 'b', 'c.txt'));
    expect(await resolveInside(linkRoot, ['new.txt'])).toBe(path.join(realRoot, 'new.txt'));
    await fs.symlink(outside, path.join(root, 'escape'), 'dir');
    expect(await codeOfAsync(resolveInside(linkRoot, ['escape', 'secret.txt']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
  });

  itLinks('a sibling folder sharing the root name prefix is outside', async () => {
    const sibling = path.join(base, 'share-other');
    await fs.mkdir(sibling);
    await fs.symlink(sibling, path.join(root, 'sib'), 'dir');
    expect(await codeOfAsync(resolveInside(root, ['sib', 'x']))).toBe('FERRY_ERR_OUTSIDE_ROOT');
  });

  itLinks('a symlink loop is a disk error, not a crash', async () => {
    await fs.symlink('loop2', path.join(root, 'loop1'));
    await fs.symlink('loop1', path.join(root, 'loop2'));
    expect(await codeOfAsync(resolveInside(root, ['loop1', 'x']))).toBe('FERRY_ERR_IO');
  });
});

describe('realInside', () => {
  const sep = path.sep;
  const r = `${sep}srv${sep}share`;
  it('compares whole components', () => {
    expect(realInside(r, r)).toBe(true);
    expect(realInside(r, `${r}${sep}a`)).toBe(true);
    expect(realInside(r, `${r}${sep}a${sep}b`)).toBe(true);
    expect(realInside(r, `${r}-other`)).toBe(false);
    expect(realInside(r, `${r}x${sep}a`)).toBe(false);
    expect(realInside(r, `${sep}srv`)).toBe(false);
    expect(realInside(r, `${sep}etc${sep}passwd`)).toBe(false);
  });
  it('handles a root that ends with the separator', () => {
    expect(realInside(sep, `${sep}etc`)).toBe(true);
  });
});

describe('fsError', () => {
  it.each([
    ['ENOSPC', 'FERRY_ERR_DISK_FULL'],
    ['EDQUOT', 'FERRY_ERR_DISK_FULL'],
    ['EACCES', 'FERRY_ERR_PERMISSION'],
    ['EPERM', 'FERRY_ERR_PERMISSION'],
    ['EROFS', 'FERRY_ERR_PERMISSION'],
    ['ENOENT', 'FERRY_ERR_NOT_FOUND'],
    ['ENOTDIR', 'FERRY_ERR_NOT_A_DIRECTORY'],
    ['EEXIST', 'FERRY_ERR_EXISTS'],
    ['EIO', 'FERRY_ERR_IO'],
    ['EMFILE', 'FERRY_ERR_IO'],
  ])('maps %s to %s and keeps the cause', (code, expected) => {
    const original = errno(code);
    const e = fsError(original, 'writing "x"');
    expect(e).toBeInstanceOf(FerryError);
    expect(e.code).toBe(expected);
    expect(e.cause).toBe(original);
  });

  it('maps a real ENOENT from the file system', async () => {
    const err = await fs.stat(path.join(base, 'does-not-exist')).catch((e: unknown) => e);
    expect(fsError(err, 'reading "does-not-exist"').code).toBe('FERRY_ERR_NOT_FOUND');
  });

  it('passes a FerryError through unchanged', () => {
    const e = new FerryError('FERRY_ERR_CANCELLED', 'stopped');
    expect(fsError(e, 'anything')).toBe(e);
  });

  it('maps errors without an errno code to IO', () => {
    expect(fsError(new Error('weird'), 'x').code).toBe('FERRY_ERR_IO');
    expect(fsError('a string', 'x').code).toBe('FERRY_ERR_IO');
    expect(fsError(undefined, 'x').code).toBe('FERRY_ERR_IO');
  });
});
