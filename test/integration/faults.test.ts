/**
 * Faults, named: the socket killed mid-block and the retry that sends only missing blocks; a
 * server restart in the middle; a block corrupted in flight; the receiver's disk filling up.
 * Real TCP (through a real proxy where bytes must be cut or flipped), real files.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import fsCjs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FerryClient } from '../../electron/core/client.js';
import { WINDOW_PER_SOCKET } from '../../electron/core/protocol/constants.js';
import { FerryServer } from '../../electron/core/server.js';
import { partials, sha256, writeRandom } from '../helpers/engine.js';
import { startProxy } from '../helpers/proxy.js';

const MiB = 1024 * 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fault-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(root: string): Promise<FerryServer> {
  const s = await FerryServer.start({ root });
  cleanups.push(() => s.close());
  return s;
}

async function client(addr: string): Promise<FerryClient> {
  const c = await FerryClient.connect(addr);
  cleanups.push(() => c.close());
  return c;
}

describe('the socket killed mid-block', () => {
  it('fails with CONNECTION_LOST, keeps a journaled partial, and a retry sends only the missing blocks', async () => {
    const dir = tmp();
    const root = path.join(dir, 'root');
    fs.mkdirSync(root);
    const file = path.join(dir, 'movie.bin');
    const size = 40 * MiB + 123;
    writeRandom(file, size);
    const srv = await server(root);
    // Cut the connection half-way through block 20: well inside a block, not at a frame edge.
    const cutAt = 20 * MiB + MiB / 2;
    const proxy = await startProxy(srv.address().port, {
      upstream: (chunk, offset, index) => (index === 0 && offset + chunk.length > cutAt ? 'cut' : chunk),
    });
    cleanups.push(() => proxy.close());
    const c1 = await client(proxy.address);
    const first = await c1.upload([file], { sockets: 1 }).done();
    expect(first.state).toBe('failed');
    expect(first.error?.code).toBe('FERRY_ERR_CONNECTION_LOST');
    expect(fs.existsSync(path.join(root, 'movie.bin'))).toBe(false); // nothing under the final name
    await new Promise((r) => setTimeout(r, 100)); // the server notices the cut
    expect(
      partials(root)
        .map((p) => path.basename(p))
        .sort(),
    ).toEqual(['.movie.bin.ferryjournal', '.movie.bin.ferrypart']);

    const c2 = await client(srv.address().text);
    const t = c2.upload([file], { sockets: 1 });
    let resumed = 0;
    t.on('block', (e) => {
      if (e.state === 'verified' && e.socket === undefined) resumed++;
    });
    const second = await t.result();
    expect(sha256(path.join(root, 'movie.bin'))).toBe(sha256(file));
    expect(partials(root)).toEqual([]);
    // Blocks before the cut (less what was still in flight) are not sent again.
    expect(second.bytesSent).toBeLessThan(size - 20 * MiB + WINDOW_PER_SOCKET + MiB);
    expect(second.bytesSent).toBeGreaterThan(size - 21 * MiB);
    expect(resumed).toBeGreaterThan(10);
    expect(resumed * MiB + second.bytesSent).toBeGreaterThanOrEqual(size - MiB);
  });

  it('resumes after the server restarts, reading only the journal', async () => {
    const dir = tmp();
    const root = path.join(dir, 'root');
    fs.mkdirSync(root);
    const file = path.join(dir, 'data.bin');
    const size = 24 * MiB;
    writeRandom(file, size);
    const srv1 = await FerryServer.start({ root });
    const c1 = await FerryClient.connect(srv1.address().text);
    const t1 = c1.upload([file], { sockets: 2 });
    await new Promise<void>((resolve) => {
      let n = 0;
      t1.on('block', (e) => {
        if (e.state === 'verified' && ++n === 10) resolve();
      });
    });
    await srv1.close();
    const first = await t1.done();
    expect(first.state).toBe('failed');
    c1.close();
    expect(fs.existsSync(path.join(root, 'data.bin'))).toBe(false);

    const srv2 = await server(root);
    const c2 = await client(srv2.address().text);
    const second = await c2.upload([file], { sockets: 2 }).result();
    expect(sha256(path.join(root, 'data.bin'))).toBe(sha256(file));
    expect(second.bytesSent).toBeLessThanOrEqual(size - 10 * MiB);
  });
});

describe('a block corrupted in flight', () => {
  it('is detected by its digest and sent again; the file lands intact', async () => {
    const dir = tmp();
    const root = path.join(dir, 'root');
    fs.mkdirSync(root);
    const file = path.join(dir, 'x.bin');
    writeRandom(file, 3 * MiB);
    const srv = await server(root);
    // Flip one byte inside the payload of the second block (~1.5 MiB into the stream).
    const target = Math.floor(1.5 * MiB);
    let flipped = 0;
    const proxy = await startProxy(srv.address().port, {
      upstream: (chunk, offset, index) => {
        if (index !== 0 || offset > target || offset + chunk.length <= target) return chunk;
        const copy = Buffer.from(chunk);
        copy[target - offset] = copy[target - offset]! ^ 0xff;
        flipped++;
        return copy;
      },
    });
    cleanups.push(() => proxy.close());
    const c = await client(proxy.address);
    const t = c.upload([file], { sockets: 1 });
    const failed: number[] = [];
    t.on('block', (e) => {
      if (e.state === 'failed') failed.push(e.block);
    });
    const s = await t.result();
    expect(flipped).toBe(1);
    expect(failed).toEqual([1]);
    expect(s.bytesSent).toBe(4 * MiB); // 3 blocks, one of them twice
    expect(sha256(path.join(root, 'x.bin'))).toBe(sha256(file));
  });
});

const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-mnt-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
})();

/**
 * Make the disk full: a real 8 MiB tmpfs where this process may mount one (root on Linux, as in
 * CI here); otherwise every write fails with an injected ENOSPC, the same error the kernel gives.
 */
function fillableDisk(root: string, mount = canMount): { releaseInjection(): void } {
  if (mount) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', root]);
    cleanups.push(() => void execFileSync('umount', ['-l', root]));
    return { releaseInjection: () => undefined };
  }
  const original = fsCjs.write;
  let written = 0;
  // Fail like a disk with 8 MiB free: writes succeed until the budget is used up.
  (fsCjs as { write: unknown }).write = (fd: number, buf: Buffer, ...rest: unknown[]): void => {
    const cb = rest[rest.length - 1] as (err: NodeJS.ErrnoException | null, n?: number) => void;
    if ((written += buf.length) > 8 * MiB) {
      cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 }));
      return;
    }
    (original as (...a: unknown[]) => void)(fd, buf, ...rest);
  };
  syncBuiltinESMExports();
  const release = (): void => {
    fsCjs.write = original;
    syncBuiltinESMExports();
  };
  cleanups.push(release);
  return { releaseInjection: release };
}

describe("the receiver's disk filling up", () => {
  const modes = canMount ? [true, false] : [false];
  it.each(modes)(
    `mounted tmpfs: %s — gives DISK_FULL on both sides, keeps existing files, leaves no partial, and serves on (false: an injected ENOSPC)`,
    async (mount) => {
      const dir = tmp();
      const root = path.join(dir, 'small-disk');
      fs.mkdirSync(root);
      const disk = fillableDisk(root, mount);
      fs.writeFileSync(path.join(root, 'precious.txt'), 'keep me');
      const file = path.join(dir, 'too-big.bin');
      writeRandom(file, 20 * MiB);
      const srv = await server(root);
      let serverSide: Promise<unknown> | undefined;
      srv.once('transfer', (t) => {
        serverSide = t.done();
      });
      const c = await client(srv.address().text);
      const err = await c
        .upload([file])
        .result()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FERRY_ERR_DISK_FULL' });
      const s = (await serverSide) as { failures: { error: { code: string } }[] };
      expect(s.failures[0]?.error.code).toBe('FERRY_ERR_DISK_FULL');
      expect(fs.readFileSync(path.join(root, 'precious.txt'), 'utf8')).toBe('keep me');
      expect(fs.readdirSync(root)).toEqual(['precious.txt']);
      // The server goes on: a small file still fits and lands.
      const small = path.join(dir, 'small.txt');
      fs.writeFileSync(small, 'fits');
      disk.releaseInjection(); // an injected full disk has room again, as the real one does now
      await c.upload([small]).result();
      expect(fs.readFileSync(path.join(root, 'small.txt'), 'utf8')).toBe('fits');
    },
  );
});
