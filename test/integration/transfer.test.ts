/**
 * Transfers over real sockets on 127.0.0.1 between a real server and client, with real files:
 * sizes around block boundaries, folder trees, many small files, conflict policies, mtimes,
 * downloads and a 100,000-entry listing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIN_BLOCK_SIZE } from '../../electron/core/protocol/constants.js';
import { type Env, partials, sha256, snapshot, startEnv, writeRandom } from '../helpers/engine.js';

let env: Env;
beforeEach(async () => {
  env = await startEnv();
});
afterEach(async () => {
  await env.cleanup();
});

const B = MIN_BLOCK_SIZE;

describe('file sizes', () => {
  const sizes: [string, number][] = [
    ['empty', 0],
    ['one byte', 1],
    ['block-1', B - 1],
    ['block', B],
    ['block+1', B + 1],
    ['3 blocks+1', 3 * B + 1],
  ];
  for (const [name, size] of sizes) {
    it(`sends a file of ${name} (${size} bytes) bit-identical with its mtime`, async () => {
      const file = path.join(env.src, `f-${size}.bin`);
      writeRandom(file, size);
      fs.utimesSync(file, new Date('2021-03-04T05:06:07.891Z'), new Date('2021-03-04T05:06:07.891Z'));
      const s = await env.client.upload([file]).result();
      expect(s.filesLanded).toBe(1);
      const out = path.join(env.root, `f-${size}.bin`);
      expect(sha256(out)).toBe(sha256(file));
      expect(Math.round(fs.statSync(out).mtimeMs)).toBe(Date.parse('2021-03-04T05:06:07.891Z'));
      expect(partials(env.root)).toEqual([]);
    });
  }

  it('sends 200 MiB of random data over two sockets, every block verified', async () => {
    const file = path.join(env.src, 'big.bin');
    writeRandom(file, 200 * 1024 * 1024);
    const t = env.client.upload([file], { sockets: 2 });
    const sockets = new Set<number>();
    let verified = 0;
    t.on('block', (e) => {
      if (e.state === 'inflight' && e.socket !== undefined) sockets.add(e.socket);
      if (e.state === 'verified') verified++;
    });
    const s = await t.result();
    expect(s.bytesSent).toBe(200 * 1024 * 1024);
    expect(verified).toBe(200);
    expect(sockets.size).toBe(2);
    expect(sha256(path.join(env.root, 'big.bin'))).toBe(sha256(file));
  });
});

describe('folders', () => {
  it('keeps structure, empty folders, unicode (NFC and NFD), spaces, long names and mtimes', async () => {
    const top = path.join(env.src, 'tree');
    const files: Record<string, number> = {
      'a.txt': 10,
      'with space.txt': 20,
      'nested/deeper/deepest/x.bin': B + 5,
      'caf\u00e9.txt': 3, // NFC
      'cafe\u0301.txt': 4, // NFD: a different name on Linux
      'ünï/ｆｕｌｌ.txt': 5,
      [`${'l'.repeat(250)}.txt`]: 6,
    };
    for (const [rel, size] of Object.entries(files)) writeRandom(path.join(top, rel), size);
    fs.mkdirSync(path.join(top, 'empty/also-empty'), { recursive: true });
    const when = new Date('2020-01-02T03:04:05.678Z');
    for (const rel of [...Object.keys(files), 'empty/also-empty', 'empty', 'nested/deeper', 'nested', 'ünï']) {
      fs.utimesSync(path.join(top, rel), when, when);
    }
    await env.client.upload([top]).result();
    const want = snapshot(top);
    const got = snapshot(path.join(env.root, 'tree'));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [rel, w] of want) {
      const g = got.get(rel)!;
      expect(g.kind, rel).toBe(w.kind);
      expect(g.hash, rel).toBe(w.hash);
      if (rel.startsWith('empty') || w.kind === 'file' || rel === 'ünï') expect(g.mtime, rel).toBe(w.mtime);
    }
  });

  it('sends 1,000 small files with one manifest', async () => {
    const top = path.join(env.src, 'many');
    for (let i = 0; i < 1000; i++) writeRandom(path.join(top, `d${i % 10}`, `f${i}.txt`), 100 + (i % 50));
    const t = env.client.upload([top]);
    let offers = 0;
    env.server.once('transfer', (st) => st.on('files', () => offers++));
    const s = await t.result();
    expect(s.filesLanded).toBe(1000);
    expect(offers).toBe(1);
    const want = snapshot(top);
    const got = snapshot(path.join(env.root, 'many'));
    expect(got.size).toBe(want.size);
    for (const [rel, w] of want) expect(got.get(rel)?.hash, rel).toBe(w.hash);
  });

  it('downloads a folder with its structure and mtimes', async () => {
    const top = path.join(env.root, 'shared-folder');
    writeRandom(path.join(top, 'one.bin'), 2 * B + 7);
    writeRandom(path.join(top, 'sub/two.bin'), 12);
    fs.mkdirSync(path.join(top, 'sub/empty'));
    const when = new Date('2019-05-06T07:08:09.123Z');
    fs.utimesSync(path.join(top, 'one.bin'), when, when);
    const out = path.join(env.dir, 'downloads');
    const s = await env.client.download(['shared-folder'], { out }).result();
    expect(s.filesLanded).toBe(2);
    const want = snapshot(top);
    const got = snapshot(path.join(out, 'shared-folder'));
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [rel, w] of want) expect(got.get(rel)?.hash, rel).toBe(w.hash);
    expect(got.get('one.bin')!.mtime).toBe(when.getTime());
  });

  it('downloads a single file', async () => {
    writeRandom(path.join(env.root, 'solo.bin'), 5000);
    const out = path.join(env.dir, 'dl');
    await env.client.download(['solo.bin'], { out }).result();
    expect(sha256(path.join(out, 'solo.bin'))).toBe(sha256(path.join(env.root, 'solo.bin')));
  });

  it('fails a download of a missing path with NOT_FOUND', async () => {
    const t = env.client.download(['nope.txt'], { out: path.join(env.dir, 'dl') });
    await expect(t.result()).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_FOUND' });
  });
});

describe('conflicts', () => {
  const setup = (): string => {
    const file = path.join(env.src, 'doc.txt');
    fs.writeFileSync(file, 'new contents');
    fs.writeFileSync(path.join(env.root, 'doc.txt'), 'old');
    return file;
  };

  it('rename (the default) lands as "name (1).ext" and keeps the old file', async () => {
    const file = setup();
    const t = env.client.upload([file]);
    const landed: string[] = [];
    t.on('file', (e) => e.landedAs && landed.push(e.landedAs));
    await t.result();
    expect(fs.readFileSync(path.join(env.root, 'doc.txt'), 'utf8')).toBe('old');
    expect(fs.readFileSync(path.join(env.root, 'doc (1).txt'), 'utf8')).toBe('new contents');
    expect(landed).toEqual(['doc (1).txt']);
    // A retry of the same file finds it already landed as doc (1).txt: identical, not landed again.
    const again = await env.client.upload([file]).result();
    expect(again.filesSkipped).toBe(1);
    expect(fs.existsSync(path.join(env.root, 'doc (2).txt'))).toBe(false);
    // A different version of it takes the next free number.
    fs.writeFileSync(file, 'newer contents');
    await env.client.upload([file]).result();
    expect(fs.readFileSync(path.join(env.root, 'doc (2).txt'), 'utf8')).toBe('newer contents');
  });

  it('overwrite replaces the file', async () => {
    const file = setup();
    await env.client.upload([file], { conflict: 'overwrite' }).result();
    expect(fs.readFileSync(path.join(env.root, 'doc.txt'), 'utf8')).toBe('new contents');
    expect(fs.readdirSync(env.root)).toEqual(['doc.txt']);
  });

  it('skip leaves the existing file alone and says so', async () => {
    const file = setup();
    const t = env.client.upload([file], { conflict: 'skip' });
    const states: string[] = [];
    t.on('file', (e) => states.push(e.state));
    const s = await t.result();
    expect(s.filesSkipped).toBe(1);
    expect(states).toEqual(['skipped']);
    expect(fs.readFileSync(path.join(env.root, 'doc.txt'), 'utf8')).toBe('old');
    expect(fs.readdirSync(env.root)).toEqual(['doc.txt']);
  });

  it('an identical file (same size and mtime) is skipped without sending a byte', async () => {
    const file = path.join(env.src, 'same.bin');
    writeRandom(file, 3 * B);
    await env.client.upload([file]).result();
    const again = await env.client.upload([file]).result();
    expect(again.filesSkipped).toBe(1);
    expect(again.bytesSent).toBe(0);
    expect(fs.readdirSync(env.root)).toEqual(['same.bin']);
  });
});

describe('listing', () => {
  it('lists a folder of 100,000 entries in parts', { timeout: 120_000 }, async () => {
    const big = path.join(env.root, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < 100_000; i++) fs.closeSync(fs.openSync(path.join(big, `e${i}`), 'w'));
    let parts = 0;
    const entries = await env.client.list('big', () => parts++);
    expect(entries.length).toBe(100_000);
    expect(parts).toBeGreaterThanOrEqual(100);
    expect(new Set(entries.map((e) => e.name)).size).toBe(100_000);
  });

  it('lists name, kind, size and mtime, hiding partial files', async () => {
    fs.writeFileSync(path.join(env.root, 'a.txt'), 'abc');
    fs.mkdirSync(path.join(env.root, 'dir'));
    fs.writeFileSync(path.join(env.root, '.x.ferrypart'), 'partial');
    const when = new Date('2022-02-02T02:02:02.222Z');
    fs.utimesSync(path.join(env.root, 'a.txt'), when, when);
    const entries = (await env.client.list('')).sort((a, b) => a.name.localeCompare(b.name));
    expect(entries).toEqual([
      { name: 'a.txt', kind: 'file', size: 3, mtime: when.getTime() },
      { name: 'dir', kind: 'dir', size: 0, mtime: expect.any(Number) as number },
    ]);
  });

  it('listing a file or a missing folder fails with a code', async () => {
    fs.writeFileSync(path.join(env.root, 'a.txt'), 'abc');
    await expect(env.client.list('a.txt')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_A_DIRECTORY' });
    await expect(env.client.list('missing')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_FOUND' });
  });
});

describe('observing and cancelling', () => {
  it('reports every socket with its addresses, bytes in flight and throughput', async () => {
    const file = path.join(env.src, 'watch.bin');
    writeRandom(file, 64 * B);
    const t = env.client.upload([file], { sockets: 3 });
    const seen = new Map<number, { local: string; remote: string; sent: number }>();
    t.on('socket', (s) => {
      seen.set(s.id, { local: s.local, remote: s.remote, sent: s.bytesSent });
    });
    await t.result();
    expect(seen.size).toBe(3);
    const port = env.server.address().port;
    for (const s of seen.values()) expect(s.remote).toBe(`127.0.0.1:${port}`);
    expect(new Set([...seen.values()].map((s) => s.local)).size).toBe(3);
    // The last report counts every byte each socket carried: together, at least the file.
    const carried = [...seen.values()].reduce((sum, s) => sum + s.sent, 0);
    expect(carried).toBeGreaterThanOrEqual(64 * B);
    expect([...seen.values()].every((s) => s.sent > 0)).toBe(true);
  });

  it('cancel stops both sides and leaves no partial and nothing under the final name', async () => {
    const file = path.join(env.src, 'cancel-me.bin');
    writeRandom(file, 64 * B);
    const t = env.client.upload([file], { sockets: 1 });
    let serverSide: Promise<{ state: string }> | undefined;
    env.server.once('transfer', (st) => {
      serverSide = st.done();
    });
    await new Promise<void>((resolve) => {
      let n = 0;
      t.on('block', (e) => {
        if (e.state === 'verified' && ++n === 5) resolve();
      });
    });
    t.cancel();
    const s = await t.done();
    expect(s.state).toBe('cancelled');
    expect((await serverSide!).state).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.readdirSync(env.root)).toEqual([]);
    // The session survives a cancel: the next transfer works.
    await env.client.upload([file]).result();
    expect(sha256(path.join(env.root, 'cancel-me.bin'))).toBe(sha256(file));
  });
});

describe('pause and sources that are not on disk', () => {
  it('pause keeps the partial file; starting again sends only the missing blocks', async () => {
    const file = path.join(env.src, 'pause.bin');
    writeRandom(file, 48 * B);
    const t = env.client.upload([file], { sockets: 1 });
    await new Promise<void>((resolve) => {
      let n = 0;
      t.on('block', (e) => {
        if (e.state === 'verified' && ++n === 16) resolve();
      });
    });
    t.pause();
    const first = await t.done();
    expect(first.state).toBe('paused');
    await new Promise((r) => setTimeout(r, 50));
    expect(partials(env.root).length).toBe(2); // partial and journal wait for the resume
    const second = await env.client.upload([file], { sockets: 1 }).result();
    expect(second.bytesSent).toBeLessThanOrEqual(48 * B - 16 * B);
    expect(sha256(path.join(env.root, 'pause.bin'))).toBe(sha256(file));
  });

  it('uploads files whose bytes come from a reader, not a path (the browser shell)', async () => {
    const data = Buffer.alloc(2 * B + 99, 7);
    const reads: number[] = [];
    const s = await env.client
      .uploadFiles([
        { entry: { path: 'dropped', kind: 'dir', size: 0, mtime: 1_600_000_000_000, bs: B } },
        {
          entry: { path: 'dropped/a.bin', kind: 'file', size: data.length, mtime: 1_600_000_000_123, bs: B },
          open: () =>
            Promise.resolve({
              read: (buf: Buffer, offset: number, length: number, position: number) => {
                reads.push(position);
                return Promise.resolve(data.copy(buf, offset, position, position + length));
              },
              close: () => Promise.resolve(),
            }),
        },
      ])
      .result();
    expect(s.filesLanded).toBe(1);
    expect(fs.readFileSync(path.join(env.root, 'dropped/a.bin')).equals(data)).toBe(true);
    expect(Math.round(fs.statSync(path.join(env.root, 'dropped/a.bin')).mtimeMs)).toBe(1_600_000_000_123);
    expect(reads).toEqual([0, B, 2 * B]);
  });
});
