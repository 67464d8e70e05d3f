/**
 * The app service every shell drives: settings that persist, peers added and checked over real
 * sockets, browsing, uploads and downloads between two real apps, pause/resume, incoming
 * transfers, coalesced events and the live picture, and the dispatch table's argument checks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FerryApp } from '../../electron/core/app/app-service.js';
import { dispatch } from '../../electron/core/app/dispatch.js';
import type { TransferView } from '../../shared/contract.js';
import { sha256, writeRandom } from '../helpers/engine.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function makeApp(name: string): Promise<{ app: FerryApp; dir: string; home: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-app-${name}-`));
  const home = path.join(dir, 'home');
  const app = await FerryApp.start({
    home,
    peerCheckMs: 0,
    defaults: { name, sharedFolder: path.join(dir, 'shared'), downloadFolder: path.join(dir, 'downloads'), port: 0 },
  });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => app.close());
  return { app, dir, home };
}

function until(app: FerryApp, pred: (v: TransferView) => boolean): Promise<TransferView> {
  return new Promise((resolve) => {
    const on = (v: TransferView): void => {
      if (pred(v)) {
        app.off('transfer', on);
        resolve(v);
      }
    };
    app.on('transfer', on);
  });
}

describe('the app service', () => {
  it('serves its shared folder and persists its settings', async () => {
    const a = await makeApp('alpha');
    const d = a.app.device();
    expect(d.serving).toBe(true);
    expect(d.port).toBeGreaterThan(0);
    expect(d.address).toBe(`127.0.0.1:${d.port}`);
    await a.app.updateDevice({ name: 'Renamed', readOnly: true });
    const saved = JSON.parse(fs.readFileSync(path.join(a.home, 'settings.json'), 'utf8')) as {
      name: string;
      readOnly: boolean;
    };
    expect(saved).toMatchObject({ name: 'Renamed', readOnly: true });
    await expect(a.app.updateDevice({ sharedFolder: 'relative/path' })).rejects.toMatchObject({
      code: 'FERRY_ERR_BAD_ARGUMENT',
    });
  });

  it('adds a peer (online with its name), refuses a bad address, and keeps an unreachable one offline with the reason', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    const peer = await a.app.addPeer(b.app.device().address);
    expect(peer).toMatchObject({ online: true, name: 'bravo' });
    await expect(a.app.addPeer('not an address')).rejects.toMatchObject({ code: 'FERRY_ERR_BAD_ARGUMENT' });
    const dead = await a.app.addPeer('127.0.0.1:1');
    expect(dead.online).toBe(false);
    expect(dead.error?.code).toBe('FERRY_ERR_UNREACHABLE');
    expect(
      a.app
        .peers()
        .map((p) => p.address)
        .sort(),
    ).toEqual([b.app.device().address, '127.0.0.1:1'].sort());
    a.app.removePeer(dead.id);
    expect(a.app.peers()).toHaveLength(1);
  });

  it('browses a peer, uploads into its folder, downloads back, and sees the upload arrive on the other side', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    fs.mkdirSync(path.join(b.app.device().sharedFolder, 'inbox'), { recursive: true });
    const peer = await a.app.addPeer(b.app.device().address);
    expect((await a.app.list(peer.id, '')).map((e) => e.name)).toEqual(['inbox']);

    const incoming = until(b.app, (v) => v.incoming && v.state === 'done');
    const file = path.join(a.dir, 'report.bin');
    writeRandom(file, 3 * 1024 * 1024 + 5);
    const started = a.app.upload(peer.id, [file], 'inbox');
    expect(['queued', 'running']).toContain(started.state);
    const done = await until(a.app, (v) => v.id === started.id && v.state === 'done');
    expect(done).toMatchObject({
      bytesDone: 3 * 1024 * 1024 + 5,
      filesDone: 1,
      direction: 'upload',
      peerName: 'bravo',
    });
    expect(sha256(path.join(b.app.device().sharedFolder, 'inbox/report.bin'))).toBe(sha256(file));
    expect((await incoming).direction).toBe('upload');

    const dl = a.app.download(peer.id, ['inbox']);
    await until(a.app, (v) => v.id === dl.id && v.state === 'done');
    expect(sha256(path.join(a.app.device().downloadFolder, 'inbox/report.bin'))).toBe(sha256(file));
    const live = a.app.liveSnapshot(dl.id)!;
    expect(live.totalBlocks).toBe(4);
    expect([...Buffer.from(live.blocks, 'base64')].every((s) => s === 2)).toBe(true);
  });

  it('coalesces transfer events and pauses and resumes through the partial files', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    const peer = await a.app.addPeer(b.app.device().address);
    const file = path.join(a.dir, 'big.bin');
    writeRandom(file, 96 * 1024 * 1024);
    const times: number[] = [];
    a.app.on('transfer', () => times.push(Date.now()));
    const v = a.app.upload(peer.id, [file], '');
    await until(a.app, (x) => x.id === v.id && x.bytesDone > 8 * 1024 * 1024);
    const pausedP = until(a.app, (x) => x.id === v.id && x.state === 'paused');
    a.app.pause(v.id);
    const paused = await pausedP;
    expect(paused.bytesDone).toBeLessThan(96 * 1024 * 1024);
    const doneP = until(a.app, (x) => x.id === v.id && x.state === 'done');
    a.app.resume(v.id);
    const done = await doneP;
    expect(done.error).toBeUndefined();
    expect(sha256(path.join(b.app.device().sharedFolder, 'big.bin'))).toBe(sha256(file));
    // At most PROGRESS_HZ (20) a second, bar the forced state changes: over any one second, few.
    const perSecond = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(perSecond).toBeLessThanOrEqual(30);
  });

  it('dispatch checks arguments and answers results, never throws', async () => {
    const a = await makeApp('alpha');
    expect(await dispatch(a.app, 'device.get', null)).toMatchObject({ ok: true, value: { name: 'alpha' } });
    expect(await dispatch(a.app, 'peers.add', { address: 42 })).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_BAD_ARGUMENT' },
    });
    expect(await dispatch(a.app, 'transfers.cancel', { id: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_NOT_FOUND' },
    });
    expect(await dispatch(a.app, 'nonsense' as 'device.get', null)).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_BAD_ARGUMENT' },
    });
    expect(await dispatch(a.app, 'dialog.chooseFolder', { title: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_UNSUPPORTED' },
    });
    expect(await dispatch(a.app, 'device.update', { name: 'x', evil: true })).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_BAD_ARGUMENT' },
    });
  });
});
