/**
 * Many clients at once against one real server: 50 clients each uploading its own small folder
 * and listing it, and 10 clients downloading the same 8 MiB file. Every file must land
 * bit-identical, under its own name, with nothing half-written left behind.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FerryClient } from '../../electron/core/client.js';
import { FerryServer } from '../../electron/core/server.js';
import { blockDigest, fileDigest } from '../../electron/core/hash.js';
import { MIN_BLOCK_SIZE } from '../../electron/core/protocol/constants.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { makeTmp, readTree, sha256File, type TreeEntry, writeTree } from '../helpers/tmp.js';

const PARTIAL = /\.ferry(part|journal)$|^\.ferry-/;

/** Files only, without mtimes of folders (a folder's own time is set last and is not the point here). */
function files(tree: Record<string, TreeEntry>): Record<string, TreeEntry> {
  return Object.fromEntries(Object.entries(tree).filter(([, e]) => e.kind === 'file'));
}

let server: FerryServer | undefined;
const clients: FerryClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

describe('many clients at once', () => {
  it('lets 50 clients each upload its own folder and list it, all landing bit-identical', async () => {
    const base = makeTmp('ferry-concurrency-');
    const root = path.join(base, 'root');
    fs.mkdirSync(root);
    const N = 50;
    for (let i = 0; i < N; i++) {
      writeTree(path.join(base, `src-${i}`), {
        [`batch-${i}/notes-${i}.txt`]: `client ${i} was here\n`.repeat(i + 1),
        [`batch-${i}/data-${i}.bin`]: randomBytes(10_000 + i * 997),
        [`batch-${i}/sub/deep-${i}.bin`]: randomBytes(64 * 1024 + i),
        [`batch-${i}/empty-${i}`]: '',
        [`batch-${i}/empty-dir-${i}`]: null,
      });
    }
    server = await FerryServer.start({ root });
    const s = server;
    const connected = await Promise.all(Array.from({ length: N }, () => FerryClient.connect(s.address().text)));
    clients.push(...connected);

    const results = await Promise.all(
      connected.map(async (client, i) => {
        const summary = await client.upload([path.join(base, `src-${i}`, `batch-${i}`)]).result();
        const listing = await client.list(`batch-${i}`);
        return { summary, names: listing.map((e) => `${e.name}:${e.kind}`).sort() };
      }),
    );

    for (let i = 0; i < N; i++) {
      const { summary, names } = results[i]!;
      expect(summary.state).toBe('done');
      expect(summary.filesLanded).toBe(4);
      expect(summary.filesFailed).toBe(0);
      expect(names).toEqual(
        [`data-${i}.bin:file`, `empty-${i}:file`, `empty-dir-${i}:dir`, `notes-${i}.txt:file`, 'sub:dir'].sort(),
      );
      const sent = readTree(path.join(base, `src-${i}`, `batch-${i}`));
      const landed = readTree(path.join(root, `batch-${i}`));
      expect(Object.keys(landed)).toEqual(Object.keys(sent));
      expect(files(landed)).toEqual(files(sent));
    }
    // Nothing else was created: exactly the 50 folders, and no partial files anywhere.
    expect(fs.readdirSync(root).sort()).toEqual(Array.from({ length: N }, (_, i) => `batch-${i}`).sort());
    expect(Object.keys(readTree(root)).filter((k) => PARTIAL.test(path.basename(k)))).toEqual([]);
  });

  it('serves 10 concurrent downloads of the same 8 MiB file, each bit-identical', async () => {
    const base = makeTmp('ferry-concurrency-dl-');
    const root = path.join(base, 'root');
    writeTree(base, { 'root/shared-8m.bin': randomBytes(8 * 1024 * 1024) });
    const source = path.join(root, 'shared-8m.bin');
    const want = sha256File(source);
    const mtime = Math.round(fs.statSync(source).mtimeMs);
    server = await FerryServer.start({ root });
    const s = server;
    const N = 10;
    const connected = await Promise.all(Array.from({ length: N }, () => FerryClient.connect(s.address().text)));
    clients.push(...connected);

    const outs = connected.map((_, i) => path.join(base, `out-${i}`));
    const summaries = await Promise.all(
      connected.map((client, i) => client.download(['shared-8m.bin'], { out: outs[i]! }).result()),
    );

    for (let i = 0; i < N; i++) {
      expect(summaries[i]!.filesLanded).toBe(1);
      expect(summaries[i]!.bytesTotal).toBe(8 * 1024 * 1024);
      expect(readTree(outs[i]!)).toEqual({
        'shared-8m.bin': { kind: 'file', sha256: want, size: 8 * 1024 * 1024, mtime },
      });
    }
    // The source was only read.
    expect(sha256File(source)).toBe(want);
    expect(fs.readdirSync(root)).toEqual(['shared-8m.bin']);
  });

  it('lands two uploads of the same name from two peers at once under two names (conflict rename)', async () => {
    const base = makeTmp('ferry-concurrency-same-');
    const root = path.join(base, 'root');
    writeTree(base, { root: null, 'src/same.txt': 'from the client' });
    server = await FerryServer.start({ root });
    const client = await FerryClient.connect(server.address().text);
    clients.push(client);
    const peer = await RawPeer.connect(server.address().port);
    try {
      // The first upload of same.txt is accepted and still in progress (no data yet)...
      await peer.hello();
      const payload = Buffer.from('from the raw peer');
      await peer.sendControl({
        t: 'offer',
        xfer: 1,
        files: [{ path: 'same.txt', kind: 'file', size: payload.length, mtime: Date.now(), bs: MIN_BLOCK_SIZE }],
        conflict: 'rename',
        last: true,
      });
      const reply = await peer.waitFor((m) => m.t === 'reply' && m.xfer === 1, 'the reply');
      expect(reply.d).toEqual([{ i: 0, a: 'send' }]);

      // ...when a second peer uploads a file of the same name.
      const second = await client.upload([path.join(base, 'src', 'same.txt')], { conflict: 'rename' }).done();

      const digest = blockDigest(payload);
      await peer.sendBlock({ transfer: 1, file: 0, block: 0, digest }, payload);
      await peer.sendControl({ t: 'end', xfer: 1, f: 0, root: fileDigest(digest) });
      await peer.sendControl({ t: 'done', xfer: 1 });
      await peer.waitFor((m) => m.t === 'complete' && m.xfer === 1, 'complete');

      expect(second.failures).toEqual([]);
      expect(second.filesLanded).toBe(1);
      const landed = fs.readdirSync(root).sort();
      expect(landed).toEqual(['same (1).txt', 'same.txt']);
      expect(landed.map((n) => fs.readFileSync(path.join(root, n), 'utf8')).sort()).toEqual([
        'from the client',
        'from the raw peer',
      ]);
    } finally {
      peer.destroy();
    }
  });
});
