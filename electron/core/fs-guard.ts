/**
 * The on-disk half of the path guard. `shared/path-guard.ts` proves a peer path is a plain
 * relative path; this module proves that, once symlinks on the local disk are followed, it still
 * names something inside the shared folder. A share may legitimately contain symlinks (made by
 * the user, or by an earlier transfer on a platform that keeps them), and a link such as
 * `share/docs -> /etc` must not let a peer read `/etc/passwd` as `docs/passwd` or write through it.
 *
 * Hard links cannot be detected this way and are out of scope; the share's owner made them.
 * Checking then opening is inherently racy against a local attacker who can rename things inside
 * the share; this guard protects against the *remote* peer, who cannot.
 */

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FerryError } from '../../shared/errors.js';

/** Symlink hops followed when resolving a dangling link by hand (Linux's limit is 40). */
const MAX_LINK_HOPS = 40;

/**
 * True if `realPath` is `realRoot` or lies under it. Both must already be real paths (from
 * `fs.realpath`): this is a string comparison on whole components, so `/share-other` is not
 * inside `/share`.
 */
export function realInside(realRoot: string, realPath: string): boolean {
  if (realPath === realRoot) return true;
  // A root such as '/' or 'C:\' already ends with the separator.
  const prefix = realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep;
  return realPath.startsWith(prefix);
}

/**
 * Resolves checked peer path components (from `checkPeerPath`) against the shared folder `root`.
 *
 * Returns `path.join(realpath(root), ...components)` after proving, with symlinks resolved, that
 * every existing prefix of it (`root/a`, `root/a/b`, ...) really lies inside `realpath(root)`:
 * a symlink anywhere along the way, including the target itself and dangling links (which a write
 * would follow to create a file wherever they point), must resolve inside the share.
 *
 * Components that do not exist yet are fine (the caller will create them), unless
 * `opts.mustExist` is set, in which case the first missing one gives FERRY_ERR_NOT_FOUND.
 *
 * Throws FerryError: FERRY_ERR_OUTSIDE_ROOT when a link leads out of the share,
 * FERRY_ERR_BAD_PATH for a component that is not a plain name (defence in depth; checkPeerPath
 * already refuses these), and the codes of {@link fsError} for disk errors (a file used as a
 * folder gives FERRY_ERR_NOT_A_DIRECTORY, a missing root FERRY_ERR_NOT_FOUND).
 */
export async function resolveInside(
  root: string,
  components: readonly string[],
  opts?: { mustExist?: boolean },
): Promise<string> {
  for (const c of components) {
    if (c === '' || c === '.' || c === '..' || c.includes('/') || c.includes(path.sep) || c.includes('\0')) {
      throw new FerryError('FERRY_ERR_BAD_PATH', `${JSON.stringify(c)} is not a plain file or folder name.`);
    }
  }
  const shown = JSON.stringify(components.join('/'));

  let realRoot: string;
  try {
    realRoot = await fs.realpath(root);
  } catch (err) {
    throw fsError(err, `opening the shared folder ${JSON.stringify(root)}`);
  }
  const target = path.join(realRoot, ...components);

  // `cur` is always the real path of the prefix walked so far (or, once something is missing,
  // that real path followed by names that do not exist yet).
  let cur = realRoot;
  for (let i = 0; i < components.length; i++) {
    const next = path.join(cur, components[i]!);
    let stat;
    try {
      stat = await fs.lstat(next);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, `opening ${shown}`);
      if (opts?.mustExist) {
        throw new FerryError('FERRY_ERR_NOT_FOUND', `${shown} does not exist in the shared folder.`, { cause: err });
      }
      // Nothing below a missing name can exist: the rest are plain names appended to a real
      // path that is inside, so the whole target is inside.
      return target;
    }
    if (!stat.isSymbolicLink()) {
      cur = next; // a real directory entry under a real path is itself a real path
      continue;
    }
    let real: string;
    let dangling = false;
    try {
      real = await fs.realpath(next);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, `opening ${shown}`);
      // A link to nothing: a write would create whatever it points at, so work out where that is.
      dangling = true;
      real = await realpathLoose(next);
    }
    if (!realInside(realRoot, real)) {
      const at = JSON.stringify(components.slice(0, i + 1).join('/'));
      throw new FerryError(
        'FERRY_ERR_OUTSIDE_ROOT',
        `${shown} leads outside the shared folder: ${at} is a link to a place outside it.`,
      );
    }
    if (dangling) {
      if (opts?.mustExist) {
        throw new FerryError('FERRY_ERR_NOT_FOUND', `${shown} does not exist in the shared folder (broken link).`);
      }
      return target; // the rest does not exist either
    }
    cur = real;
  }
  return target;
}

/**
 * Converts a node fs error into a FerryError with a message a person understands. `what` says
 * what Ferry was doing, e.g. `writing "photos/cat.jpg"`, giving `Disk full (ENOSPC) while
 * writing "photos/cat.jpg"`. The original error is kept as `cause`; a FerryError passes through
 * unchanged.
 *
 * ENOENT → NOT_FOUND, ENOTDIR → NOT_A_DIRECTORY, EACCES/EPERM/EROFS → PERMISSION,
 * ENOSPC/EDQUOT → DISK_FULL, EEXIST → EXISTS, anything else → IO.
 */
export function fsError(err: unknown, what: string): FerryError {
  if (err instanceof FerryError) return err;
  const code = errnoCode(err);
  const tag = code ? ` (${code})` : '';
  switch (code) {
    case 'ENOENT':
      return new FerryError('FERRY_ERR_NOT_FOUND', `Not found${tag} while ${what}`, { cause: err });
    case 'ENOTDIR':
      return new FerryError('FERRY_ERR_NOT_A_DIRECTORY', `A file is in the way of a folder${tag} while ${what}`, {
        cause: err,
      });
    case 'EACCES':
    case 'EPERM':
      return new FerryError('FERRY_ERR_PERMISSION', `Permission denied${tag} while ${what}`, { cause: err });
    case 'EROFS':
      return new FerryError('FERRY_ERR_PERMISSION', `Read-only file system${tag} while ${what}`, { cause: err });
    case 'ENOSPC':
      return new FerryError('FERRY_ERR_DISK_FULL', `Disk full${tag} while ${what}`, { cause: err });
    case 'EDQUOT':
      return new FerryError('FERRY_ERR_DISK_FULL', `Disk quota exceeded${tag} while ${what}`, { cause: err });
    case 'EEXIST':
      return new FerryError('FERRY_ERR_EXISTS', `Already exists${tag} while ${what}`, { cause: err });
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return new FerryError('FERRY_ERR_IO', `Disk error while ${what}: ${detail}`, { cause: err });
    }
  }
}

/** The `code` of a node system error (`'ENOENT'`, ...), or undefined. */
function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Like `fs.realpath`, but for a path whose end does not exist: follows links one component at a
 * time the way the kernel would (so `..` in a link target applies to the link's real folder, not
 * to the textual path) and appends the missing names as they are. Used for dangling links.
 */
async function realpathLoose(absPath: string): Promise<string> {
  let { root: cur } = path.parse(absPath);
  const pending = splitPath(absPath.slice(cur.length));
  let hops = 0;
  let missing = false;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      cur = path.dirname(cur);
      continue;
    }
    const next = path.join(cur, c);
    if (missing) {
      cur = next;
      continue;
    }
    let stat;
    try {
      stat = await fs.lstat(next);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, `following a link to ${JSON.stringify(next)}`);
      missing = true;
      cur = next;
      continue;
    }
    if (!stat.isSymbolicLink()) {
      cur = next;
      continue;
    }
    if (++hops > MAX_LINK_HOPS) {
      throw new FerryError('FERRY_ERR_IO', `Too many levels of links while following ${JSON.stringify(absPath)}`);
    }
    let link: string;
    try {
      link = await fs.readlink(next);
    } catch (err) {
      throw fsError(err, `reading the link ${JSON.stringify(next)}`);
    }
    if (path.isAbsolute(link)) {
      const { root } = path.parse(link);
      cur = root;
      pending.unshift(...splitPath(link.slice(root.length)));
    } else {
      pending.unshift(...splitPath(link));
    }
  }
  return cur;
}

function splitPath(p: string): string[] {
  return p.split(path.sep === '\\' ? /[\\/]/ : '/');
}
