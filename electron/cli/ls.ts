/** `ferry ls`: one folder of a peer's share, as a table or as JSON. */
import { formatBytes } from '../../shared/format.js';
import { formatPeerAddress, type PeerAddress } from '../../shared/peer-address.js';
import type { RemoteEntry } from '../../shared/types.js';
import { FerryError } from '../../shared/errors.js';
import { connect, explainRefusal, type LocalDevice } from './device.js';
import { err, formatTime, oneLine, out, safeName } from './output.js';

/** Folders first, then by name (code point order, the same on every machine). */
export function sortEntries(entries: RemoteEntry[]): RemoteEntry[] {
  const rank = (e: RemoteEntry): number => (e.kind === 'dir' ? 0 : 1);
  return [...entries].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Lines of the table: size (or `-`), local modification time, name (`/` after folders). */
export function formatListing(entries: RemoteEntry[]): string[] {
  const rows = sortEntries(entries).map((e) => {
    const size = e.kind === 'file' ? formatBytes(e.size) : '-';
    const name = safeName(e.name);
    const shown =
      e.kind === 'dir'
        ? `${name}/`
        : e.kind === 'link'
          ? `${name} (link leading outside the shared folder; not served)`
          : e.kind === 'other'
            ? `${name} (not a regular file)`
            : name;
    return { size, time: formatTime(e.mtime), shown };
  });
  const width = Math.max(0, ...rows.map((r) => r.size.length));
  return rows.map((r) => `${r.size.padStart(width)}  ${r.time}  ${r.shown}`);
}

export interface LsCommand {
  peer: PeerAddress;
  path: string;
  json: boolean;
  device: LocalDevice;
  /** `--trust`: the devices the peer may be. */
  pinned: Buffer[];
}

export async function ls(cmd: LsCommand): Promise<number> {
  const { peer, path: peerPath, json } = cmd;
  const client = await connect(cmd.device, peer, cmd.pinned);
  let entries: RemoteEntry[];
  try {
    entries = await client.list(peerPath);
  } catch (e) {
    throw e instanceof FerryError ? explainRefusal(e, client, cmd.device) : e;
  } finally {
    await client.closeGracefully();
  }
  if (json) {
    out(JSON.stringify(sortEntries(entries), null, 2));
  } else if (entries.length === 0) {
    err(`(${peerPath ? oneLine(peerPath) : 'the shared folder'} on ${formatPeerAddress(peer)} is empty)`);
  } else {
    for (const line of formatListing(entries)) out(line);
  }
  return 0;
}
