/**
 * Build the manifest a sender offers: files and folders (empty ones included) with sizes,
 * modification times and block sizes. Local uploads take the user's paths as given; served
 * downloads take peer paths, checked by the guard and never followed out of the shared folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FerryError } from '../../shared/errors.js';
import { checkPeerPath, isHiddenPartialName } from '../../shared/path-guard.js';
import { chooseBlockSize } from './blocks.js';
import { fsError, realInside, resolveInside } from './fs-guard.js';
import type { LocalFile } from './sender.js';

export interface WalkResult {
  files: LocalFile[];
  /** What was left out and why (symlinks, sockets, devices, unreadable folders). */
  skipped: { path: string; reason: string }[];
}

interface WalkCtx {
  out: WalkResult;
  /** When set, links are followed only while they stay inside this real folder. */
  realRoot: string | undefined;
  /** Real paths of folders on the current branch, so a link loop ends. */
  seen: Set<string>;
  count: number;
}

function entry(kind: 'file' | 'dir', rel: string, st: fs.Stats) {
  return {
    path: rel,
    kind,
    size: kind === 'file' ? st.size : 0,
    mtime: Math.round(st.mtimeMs),
    bs: chooseBlockSize(st.size),
  };
}

async function walk(ctx: WalkCtx, abs: string, rel: string, st: fs.Stats): Promise<void> {
  if (++ctx.count % 256 === 0) await new Promise((r) => setImmediate(r));
  if (st.isSymbolicLink()) {
    if (!ctx.realRoot) {
      ctx.out.skipped.push({ path: rel, reason: 'symbolic link (not followed)' });
      return;
    }
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch {
      ctx.out.skipped.push({ path: rel, reason: 'broken symbolic link' });
      return;
    }
    if (!realInside(ctx.realRoot, real)) {
      ctx.out.skipped.push({ path: rel, reason: 'symbolic link leading outside the shared folder' });
      return;
    }
    st = fs.statSync(real);
    abs = real;
  }
  if (st.isFile()) {
    ctx.out.files.push({ entry: entry('file', rel, st), abs });
    return;
  }
  if (!st.isDirectory()) {
    ctx.out.skipped.push({ path: rel, reason: 'not a regular file or folder' });
    return;
  }
  const real = fs.realpathSync(abs);
  if (ctx.seen.has(real)) {
    ctx.out.skipped.push({ path: rel, reason: 'folder loop' });
    return;
  }
  ctx.out.files.push({ entry: entry('dir', rel, st), abs });
  let names: string[];
  try {
    names = fs.readdirSync(abs).sort();
  } catch (err) {
    ctx.out.skipped.push({ path: rel, reason: fsError(err, `reading folder "${rel}"`).message });
    return;
  }
  ctx.seen.add(real);
  for (const name of names) {
    if (isHiddenPartialName(name)) continue;
    const childAbs = path.join(abs, name);
    let cst: fs.Stats;
    try {
      cst = fs.lstatSync(childAbs);
    } catch {
      continue; // vanished meanwhile
    }
    await walk(ctx, childAbs, rel ? `${rel}/${name}` : name, cst);
  }
  ctx.seen.delete(real);
}

/** Manifest for local paths chosen by the user: each lands under its own name. */
export async function walkLocal(paths: string[]): Promise<WalkResult> {
  const ctx: WalkCtx = { out: { files: [], skipped: [] }, realRoot: undefined, seen: new Set(), count: 0 };
  for (const p of paths) {
    const abs = path.resolve(p);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs); // the user's own choice of a link is followed
    } catch (err) {
      throw fsError(err, `reading "${p}"`);
    }
    const name = path.basename(abs);
    if (!name) throw new FerryError('FERRY_ERR_BAD_ARGUMENT', `Cannot send "${p}": choose a folder inside it`);
    await walk(ctx, abs, name, st);
  }
  return ctx.out;
}

/** Manifest for peer paths inside a shared folder (a download). '' means the whole folder. */
export async function walkShared(realRoot: string, peerPaths: string[]): Promise<WalkResult> {
  const ctx: WalkCtx = { out: { files: [], skipped: [] }, realRoot, seen: new Set(), count: 0 };
  for (const p of peerPaths) {
    const comps = checkPeerPath(p, { allowRoot: true });
    const abs = await resolveInside(realRoot, comps, { mustExist: true });
    const st = fs.statSync(abs);
    if (comps.length === 0) {
      for (const name of fs.readdirSync(abs).sort()) {
        if (isHiddenPartialName(name)) continue;
        await walk(ctx, path.join(abs, name), name, fs.lstatSync(path.join(abs, name)));
      }
    } else {
      await walk(ctx, abs, comps[comps.length - 1]!, st);
    }
  }
  return ctx.out;
}
