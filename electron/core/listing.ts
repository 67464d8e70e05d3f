/**
 * Serving a folder listing in parts of LIST_PART_ENTRIES entries, so that a folder of 100,000
 * entries streams as a hundred small frames instead of one giant one. Links are shown as what
 * they point to when that stays inside the shared folder, and as 'link' otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FerryError, WIRE_CODES } from '../../shared/errors.js';
import { checkPeerPath, isHiddenPartialName } from '../../shared/path-guard.js';
import type { RemoteEntry } from '../../shared/types.js';
import { fsError, realInside, resolveInside } from './fs-guard.js';
import type { Connection } from './protocol/connection.js';
import { LIST_PART_ENTRIES } from './protocol/constants.js';

function describe(realRoot: string, dir: string, d: fs.Dirent): RemoteEntry | undefined {
  const abs = path.join(dir, d.name);
  try {
    let st = fs.lstatSync(abs);
    if (st.isSymbolicLink()) {
      const real = fs.realpathSync(abs);
      if (!realInside(realRoot, real)) return { name: d.name, kind: 'link', size: 0, mtime: Math.round(st.mtimeMs) };
      st = fs.statSync(real);
    }
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    return { name: d.name, kind, size: kind === 'file' ? st.size : 0, mtime: Math.round(st.mtimeMs) };
  } catch {
    return undefined; // vanished, or a broken link
  }
}

/** Send one message, waiting for the socket to drain first when its buffer is full. */
async function sendPaced(conn: Connection, m: Parameters<Connection['send']>[0]): Promise<void> {
  if (!conn.send(m) && !conn.isClosed) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        conn.off('drain', done);
        conn.off('close', done);
        resolve();
      };
      conn.on('drain', done);
      conn.on('close', done);
    });
  }
}

/** Stream a listing; resolves when it has been sent (or failed), never rejects. */
export async function serveList(conn: Connection, realRoot: string, req: number, peerPath: string): Promise<void> {
  try {
    const comps = checkPeerPath(peerPath, { allowRoot: true });
    const dir = await resolveInside(realRoot, comps, { mustExist: true });
    const handle = await fs.promises.opendir(dir, { bufferSize: 256 });
    let part: RemoteEntry[] = [];
    let total = 0;
    for await (const d of handle) {
      if (isHiddenPartialName(d.name)) continue;
      const e = describe(realRoot, dir, d);
      if (!e) continue;
      part.push(e);
      total++;
      if (part.length === LIST_PART_ENTRIES) {
        if (conn.isClosed) return;
        await sendPaced(conn, { t: 'list-part', req, entries: part });
        part = [];
      }
    }
    if (part.length > 0) await sendPaced(conn, { t: 'list-part', req, entries: part });
    await sendPaced(conn, { t: 'list-end', req, total });
  } catch (err) {
    const e = err instanceof FerryError ? err : fsError(err, `listing "${peerPath}"`);
    await sendPaced(conn, { t: 'fail', req, code: WIRE_CODES[e.code], message: e.message });
  }
}
