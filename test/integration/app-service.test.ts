/**
 * The app service every shell drives, between real apps over real TLS sockets: settings that
 * persist, this device's identity, peers added and checked, browsing, uploads and downloads,
 * pause/resume, incoming transfers, coalesced events and the live picture, and the dispatch
 * table's argument checks; then trust: an unpaired peer gets "Pair first", pairing through the
 * app (approved, declined, cancelled), per-peer permissions, "Forget" taking effect on the next
 * request, upload requests (accepted, declined, expired), and a peer whose certificate changed.
 *
 * Where a test is not about pairing, the two apps trust each other through the engine directly
 * (each one's trust store gets the other's fingerprint), as `ferry serve --trust` would.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lanAddresses } from '../../electron/core/app/addresses.js';
import { type AppOptions, FerryApp } from '../../electron/core/app/app-service.js';
import { dispatch } from '../../electron/core/app/dispatch.js';
import { loadIdentity, type Permissions, TrustStore } from '../../electron/core/identity/index.js';
import type { Events, PeerState, TransferView, UploadRequestView } from '../../shared/contract.js';
import { sha256, writeRandom } from '../helpers/engine.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface TestApp {
  app: FerryApp;
  dir: string;
  home: string;
  shared: string;
}

async function makeApp(name: string, extra: Partial<AppOptions> = {}, dir?: string): Promise<TestApp> {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), `ferry-app-${name}-`));
  const home = path.join(dir, 'home');
  const shared = path.join(dir, 'shared');
  const app = await FerryApp.start({
    home,
    peerCheckMs: 0,
    discovery: false,
    ...extra,
    defaults: { name, sharedFolder: shared, downloadFolder: path.join(dir, 'downloads'), port: 0, ...extra.defaults },
  });
  const d = dir;
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  cleanups.push(() => app.close());
  return { app, dir, home, shared };
}

/**
 * Pair two apps without a person: each trust store gets the other's fingerprint (what pairing
 * or `--trust DEVICE_ID` records). `bGrants` is what b lets a do; by default a may send
 * without asking, so that transfers need no answer.
 */
function trustEachOther(a: TestApp, b: TestApp, bGrants: Partial<Permissions> = { autoAccept: true }): void {
  TrustStore.load(a.home).add({ fingerprint: loadIdentity(b.home).fingerprint, name: 'bravo' });
  TrustStore.load(b.home).add({ fingerprint: loadIdentity(a.home).fingerprint, name: 'alpha', permissions: bGrants });
}

/** The next event `name` from the app for which `pred` holds (or one already emitted since `since`). */
function next<E extends keyof Events>(
  app: FerryApp,
  name: E,
  pred: (v: Events[E]) => boolean = () => true,
  ms = 20_000,
): Promise<Events[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ${name} event within ${ms} ms`)), ms);
    const on = (v: Events[E]): void => {
      if (!pred(v)) return;
      clearTimeout(timer);
      (app as unknown as { off(n: E, l: typeof on): void }).off(name, on);
      resolve(v);
    };
    (app as unknown as { on(n: E, l: typeof on): void }).on(name, on);
  });
}

function until(app: FerryApp, pred: (v: TransferView) => boolean): Promise<TransferView> {
  return next(app, 'transfer', pred, 60_000);
}

/** An asymmetric matcher, typed as the string it stands for. */
const matching = (re: RegExp): string => expect.stringMatching(re) as string;

const ended = (v: TransferView): boolean => ['done', 'failed', 'cancelled'].includes(v.state);

function peerWith(app: FerryApp, deviceId: string): PeerState | undefined {
  return app.peers().find((p) => p.deviceId === deviceId);
}

describe('the app service', () => {
  it('serves on every interface by default and shows the addresses a peer can use; persists its settings', async () => {
    const a = await makeApp('alpha');
    const d = a.app.device();
    expect(d.serving).toBe(true);
    expect(d.port).toBeGreaterThan(0);
    expect(d.host).toBe('0.0.0.0');
    const lan = lanAddresses();
    expect(d.addresses).toEqual((lan.length > 0 ? lan : ['127.0.0.1']).map((ip) => `${ip}:${d.port}`));
    expect(d.address).toBe(d.addresses[0]);
    await a.app.updateDevice({ name: 'Renamed', readOnly: true });
    const saved = JSON.parse(fs.readFileSync(path.join(a.home, 'settings.json'), 'utf8')) as {
      name: string;
      readOnly: boolean;
    };
    expect(saved).toMatchObject({ name: 'Renamed', readOnly: true });
    await expect(a.app.updateDevice({ sharedFolder: 'relative/path' })).rejects.toMatchObject({
      code: 'FERRY_ERR_BAD_ARGUMENT',
    });
    // On one chosen address, that address is the one to give.
    const b = await makeApp('bravo', { defaults: { host: '127.0.0.1' } });
    expect(b.app.device().addresses).toEqual([`127.0.0.1:${b.app.device().port}`]);
  });

  it("keeps this device's ID (its certificate's fingerprint) from one start to the next", async () => {
    const a = await makeApp('alpha');
    const id = a.app.device().deviceId;
    expect(id).toMatch(/^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/);
    expect(id).toBe(loadIdentity(a.home).deviceId);
    await a.app.close();
    const again = await makeApp('alpha', {}, a.dir);
    expect(again.app.device().deviceId).toBe(id);
    expect(fs.statSync(path.join(a.home, 'identity', 'key.pem')).mode & 0o077).toBe(0);
  });

  it('moves a first-version settings file off its loopback default, but keeps a host chosen since', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-app-old-'));
    fs.mkdirSync(path.join(dir, 'home'));
    fs.writeFileSync(path.join(dir, 'home', 'settings.json'), JSON.stringify({ name: 'old', host: '127.0.0.1' }));
    const old = await makeApp('old', {}, dir);
    expect(old.app.device().host).toBe('0.0.0.0');
    await old.app.updateDevice({ host: '127.0.0.1' });
    await old.app.close();
    const chosen = await makeApp('old', {}, dir);
    expect(chosen.app.device().host).toBe('127.0.0.1');
  });

  it('adds a peer (online, with its name and device ID, not paired), refuses a bad address, and keeps an unreachable one offline with the reason', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    const peer = await a.app.addPeer(b.app.device().address);
    expect(peer).toMatchObject({ online: true, name: 'bravo', deviceId: b.app.device().deviceId, trusted: false });
    expect(peer.permissions).toBeUndefined();
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
    // The device ID seen at that address is saved with it (pinned).
    const saved = JSON.parse(fs.readFileSync(path.join(a.home, 'settings.json'), 'utf8')) as {
      peers: { deviceId?: string }[];
    };
    expect(saved.peers[0]?.deviceId).toBe(b.app.device().deviceId);
  });

  it('browses a paired peer, uploads into its folder, downloads back, and sees the upload arrive on the other side', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    trustEachOther(a, b);
    fs.mkdirSync(path.join(b.app.device().sharedFolder, 'inbox'), { recursive: true });
    const peer = await a.app.addPeer(b.app.device().address);
    expect(peer).toMatchObject({ trusted: true, permissions: { browse: true, send: true, autoAccept: false } });
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
    trustEachOther(a, b);
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
    const bad = (r: unknown): void => expect(r).toMatchObject({ ok: false, error: { code: 'FERRY_ERR_BAD_ARGUMENT' } });
    bad(await dispatch(a.app, 'peers.add', { address: 42 }));
    expect(await dispatch(a.app, 'transfers.cancel', { id: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_NOT_FOUND' },
    });
    bad(await dispatch(a.app, 'nonsense' as 'device.get', null));
    expect(await dispatch(a.app, 'dialog.chooseFolder', { title: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_UNSUPPORTED' },
    });
    bad(await dispatch(a.app, 'device.update', { name: 'x', evil: true }));
    bad(await dispatch(a.app, 'pairing.answer', { id: 'pair1', approve: 'yes' }));
    bad(await dispatch(a.app, 'pairing.answer', { id: 'pair1' }));
    bad(await dispatch(a.app, 'peers.permissions', { id: 'p1', browse: 1 }));
    bad(await dispatch(a.app, 'peers.permissions', { id: 'p1', admin: true }));
    bad(await dispatch(a.app, 'uploads.answer', { id: 'up1' }));
    bad(await dispatch(a.app, 'peers.pair', {}));
    // Well-formed, but nothing is waiting under those names.
    for (const [name, arg] of [
      ['pairing.answer', { id: 'pair999', approve: true }],
      ['uploads.answer', { id: 'up999', accept: true }],
      ['peers.untrust', { id: 'nobody' }],
    ] as const) {
      expect(await dispatch(a.app, name, arg)).toMatchObject({ ok: false, error: { code: 'FERRY_ERR_NOT_FOUND' } });
    }
    expect(await dispatch(a.app, 'pairing.list', null)).toEqual({ ok: true, value: [] });
    expect(await dispatch(a.app, 'uploads.requests', null)).toEqual({ ok: true, value: [] });
  });
});

describe('devices that are not paired', () => {
  it('get "Pair first" for browsing and sending, and the peer gets nothing', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    fs.mkdirSync(b.shared, { recursive: true });
    fs.writeFileSync(path.join(b.shared, 'private.txt'), 'mine');
    const peer = await a.app.addPeer(b.app.device().address);
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({
      code: 'FERRY_ERR_NOT_TRUSTED',
      message: matching(/^Pair first/),
    });
    const file = path.join(a.dir, 'x.bin');
    writeRandom(file, 10);
    expect(() => a.app.upload(peer.id, [file], '')).toThrow(/Pair first/);
    expect(() => a.app.download(peer.id, ['private.txt'])).toThrow(/Pair first/);
    expect(fs.readdirSync(b.shared)).toEqual(['private.txt']);
  });

  it('a trusted peer that does not trust us back: its refusal says who refused', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    TrustStore.load(a.home).add({ fingerprint: loadIdentity(b.home).fingerprint, name: 'bravo' });
    const peer = await a.app.addPeer(b.app.device().address);
    expect(peer.trusted).toBe(true);
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({
      code: 'FERRY_ERR_NOT_TRUSTED',
      message: matching(/^bravo refused: /),
    });
    const file = path.join(a.dir, 'x.bin');
    writeRandom(file, 10);
    const v = a.app.upload(peer.id, [file], '');
    const end = await until(a.app, (x) => x.id === v.id && ended(x));
    expect(end.state).toBe('failed');
    expect(end.error).toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED', message: matching(/^bravo refused: /) });
    expect(fs.existsSync(path.join(b.shared, 'x.bin'))).toBe(false);
  });
});

describe('pairing through the app', () => {
  async function twoApps(extra: Partial<AppOptions> = {}) {
    const a = await makeApp('alpha', extra);
    const b = await makeApp('bravo', extra);
    const peer = await a.app.addPeer(b.app.device().address);
    return { a, b, peer };
  }

  /** a asks b; resolves with what each side shows while the code is up. */
  async function ask(a: TestApp, b: TestApp, peerId: string) {
    const incoming = next(b.app, 'pairing', (v) => v.direction === 'incoming' && v.state === 'waiting');
    const outgoing = next(a.app, 'pairing', (v) => v.direction === 'outgoing' && v.state === 'waiting');
    const answer = await a.app.pair(peerId);
    return { answer, onA: await outgoing, onB: await incoming };
  }

  it('shows both sides the same code and each other; approved, each trusts the other, and browsing works', async () => {
    const { a, b, peer } = await twoApps();
    const { answer, onA, onB } = await ask(a, b, peer.id);
    expect(answer.code).toMatch(/^\d{6}$/);
    expect(onA.code).toBe(answer.code);
    expect(onB.code).toBe(answer.code);
    expect(answer).toMatchObject({ peerName: 'bravo', peerDeviceId: b.app.device().deviceId, pairingId: onA.id });
    expect(onB).toMatchObject({ peerName: 'alpha', peerDeviceId: a.app.device().deviceId });
    expect(b.app.pendingPairings().map((v) => v.id)).toEqual([onB.id]);
    // Asking again while one waits gives the same pairing, not a second one.
    expect((await a.app.pair(peer.id)).pairingId).toBe(onA.id);

    const doneA = next(a.app, 'pairing', (v) => v.id === onA.id && v.state !== 'waiting');
    const doneB = next(b.app, 'pairing', (v) => v.id === onB.id && v.state !== 'waiting');
    const bPeers = next(b.app, 'peers', (list) =>
      list.some((p) => p.deviceId === a.app.device().deviceId && p.trusted),
    );
    expect(await dispatch(b.app, 'pairing.answer', { id: onB.id, approve: true })).toEqual({ ok: true, value: null });
    expect((await doneA).state).toBe('accepted');
    expect((await doneB).state).toBe('accepted');
    await bPeers;
    expect(b.app.pendingPairings()).toEqual([]);

    expect(peerWith(a.app, b.app.device().deviceId)).toMatchObject({ id: peer.id, trusted: true });
    // b never added a: it is listed as a trusted device without an address.
    expect(peerWith(b.app, a.app.device().deviceId)).toMatchObject({
      address: '',
      name: 'alpha',
      trusted: true,
      permissions: { browse: true, send: true, autoAccept: false },
    });
    fs.writeFileSync(path.join(b.shared, 'hello.txt'), 'hi');
    expect((await a.app.list(peer.id, '')).map((e) => e.name)).toEqual(['hello.txt']);
  });

  it('declined: the asking side hears it, nobody trusts anybody', async () => {
    const { a, b, peer } = await twoApps();
    const { onA, onB } = await ask(a, b, peer.id);
    const doneA = next(a.app, 'pairing', (v) => v.id === onA.id && v.state !== 'waiting');
    b.app.answerPairing(onB.id, false);
    expect((await doneA).state).toBe('declined');
    expect(a.app.peers().every((p) => !p.trusted)).toBe(true);
    expect(b.app.peers()).toEqual([]);
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
    // Answered once: a second answer finds nothing waiting.
    expect(() => b.app.answerPairing(onB.id, true)).toThrow(expect.objectContaining({ code: 'FERRY_ERR_NOT_FOUND' }));
  });

  it('cancelled by the asking side: the other screen is told, and cannot approve any more', async () => {
    const { a, b, peer } = await twoApps();
    const { onA, onB } = await ask(a, b, peer.id);
    const doneB = next(b.app, 'pairing', (v) => v.id === onB.id && v.state !== 'waiting');
    const doneA = next(a.app, 'pairing', (v) => v.id === onA.id && v.state !== 'waiting');
    // The asking side cannot approve for the other.
    expect(() => a.app.answerPairing(onA.id, true)).toThrow(
      expect.objectContaining({ code: 'FERRY_ERR_BAD_ARGUMENT' }),
    );
    a.app.answerPairing(onA.id, false);
    expect(await doneB).toMatchObject({ state: 'failed', error: { code: 'FERRY_ERR_CANCELLED' } });
    expect(await doneA).toMatchObject({ state: 'failed', error: { code: 'FERRY_ERR_CANCELLED' } });
    expect(() => b.app.answerPairing(onB.id, true)).toThrow(expect.objectContaining({ code: 'FERRY_ERR_NOT_FOUND' }));
    expect(TrustStore.load(b.home).list()).toEqual([]);
    expect(TrustStore.load(a.home).list()).toEqual([]);
  });

  it('approved with permissions: the peer gets only those', async () => {
    const { a, b, peer } = await twoApps();
    const { onB } = await ask(a, b, peer.id);
    const doneA = next(a.app, 'pairing', (v) => v.state === 'accepted');
    b.app.answerPairing(onB.id, true, { browse: false });
    await doneA;
    expect(peerWith(b.app, a.app.device().deviceId)?.permissions).toEqual({
      browse: false,
      send: true,
      autoAccept: false,
    });
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
  });
});

describe('permissions and forgetting', () => {
  async function paired(extra: Partial<AppOptions> = {}, grants: Partial<Permissions> = {}) {
    const a = await makeApp('alpha', extra);
    const b = await makeApp('bravo', extra);
    trustEachOther(a, b, grants);
    const peer = await a.app.addPeer(b.app.device().address);
    fs.mkdirSync(b.shared, { recursive: true });
    const onB = (): PeerState => peerWith(b.app, a.app.device().deviceId)!;
    return { a, b, peer, onB };
  }

  it('each permission takes effect on the next request: browse, send, send without asking', async () => {
    const { a, b, peer, onB } = await paired({}, { autoAccept: true });
    expect(await a.app.list(peer.id, '')).toEqual([]);
    expect(b.app.setPermissions(onB().id, { browse: false }).permissions).toEqual({
      browse: false,
      send: true,
      autoAccept: true,
    });
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });

    const file = path.join(a.dir, 'one.bin');
    writeRandom(file, 1000);
    const sent = a.app.upload(peer.id, [file], '');
    expect((await until(a.app, (v) => v.id === sent.id && ended(v))).state).toBe('done');

    b.app.setPermissions(onB().id, { send: false });
    const refused = a.app.upload(peer.id, [file], '');
    const end = await until(a.app, (v) => v.id === refused.id && ended(v));
    expect(end).toMatchObject({ state: 'failed', error: { code: 'FERRY_ERR_NOT_TRUSTED' } });
    expect(fs.readdirSync(b.shared)).toEqual(['one.bin']);
    // Saved in the trust store, where the engine reads it.
    expect(TrustStore.load(b.home).get(loadIdentity(a.home).fingerprint)?.permissions).toEqual({
      browse: false,
      send: false,
      autoAccept: true,
    });
  });

  it('"Forget" takes effect on the next request, over the same connection', async () => {
    const { a, b, peer, onB } = await paired();
    expect(await a.app.list(peer.id, '')).toEqual([]);
    const gone = next(b.app, 'peers', (list) => !list.some((p) => p.trusted));
    const after = b.app.untrust(onB().id);
    expect(after.trusted).toBe(false);
    await gone;
    // b never added a by address: once forgotten, it leaves b's list.
    expect(b.app.peers()).toEqual([]);
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({
      code: 'FERRY_ERR_NOT_TRUSTED',
      message: matching(/^bravo refused: .*not been paired/),
    });
    // a can forget too: then it is "Pair first" on a's own side.
    expect(a.app.untrust(peer.id)).toMatchObject({ id: peer.id, trusted: false });
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({ message: matching(/^Pair first/) });
    expect(() => a.app.setPermissions(peer.id, { browse: true })).toThrow(
      expect.objectContaining({ code: 'FERRY_ERR_NOT_TRUSTED' }),
    );
  });

  it('removing a paired peer forgets it too', async () => {
    const { a, b, peer } = await paired();
    a.app.removePeer(peer.id);
    expect(a.app.peers()).toEqual([]);
    expect(TrustStore.load(a.home).get(loadIdentity(b.home).fingerprint)).toBeUndefined();
  });

  it('an upload without "send without asking" waits: accepted, it lands; the request names the files and size', async () => {
    const { a, b, peer } = await paired({}, { autoAccept: false });
    const files = ['a.bin', 'b.bin'].map((n, k) => {
      const f = path.join(a.dir, 'batch', n);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      writeRandom(f, 2000 + k);
      return f;
    });
    const asked = next(b.app, 'upload-request', (v) => v.state === 'waiting');
    const t0 = Date.now();
    const v = a.app.upload(peer.id, [path.join(a.dir, 'batch')], '');
    const req = await asked;
    expect(req).toMatchObject({
      peerName: 'alpha',
      peerDeviceId: a.app.device().deviceId,
      files: ['batch/a.bin', 'batch/b.bin'],
      fileCount: 2,
      totalBytes: 4001,
    });
    expect(req.expiresAt).toBeGreaterThanOrEqual(t0 + 59_000);
    expect(b.app.pendingUploads().map((u) => u.id)).toEqual([req.id]);
    // Nothing is written while it waits.
    expect(fs.existsSync(path.join(b.shared, 'batch'))).toBe(false);
    const answered = next(b.app, 'upload-request', (u) => u.id === req.id && u.state !== 'waiting');
    expect(await dispatch(b.app, 'uploads.answer', { id: req.id, accept: true })).toEqual({ ok: true, value: null });
    expect((await answered).state).toBe('accepted');
    expect((await until(a.app, (x) => x.id === v.id && ended(x))).state).toBe('done');
    for (const f of files) expect(sha256(path.join(b.shared, 'batch', path.basename(f)))).toBe(sha256(f));
    expect(b.app.pendingUploads()).toEqual([]);
  });

  it('declined, or not answered in time, the upload fails with DECLINED and nothing is written', async () => {
    const { a, b, peer } = await paired({ askTimeoutMs: 400 }, { autoAccept: false });
    const file = path.join(a.dir, 'no.bin');
    writeRandom(file, 100);
    const asked = next(b.app, 'upload-request', (u) => u.state === 'waiting');
    const first = a.app.upload(peer.id, [file], '');
    b.app.answerUpload((await asked).id, false);
    const end1 = await until(a.app, (x) => x.id === first.id && ended(x));

    expect(end1).toMatchObject({ state: 'failed', error: { code: 'FERRY_ERR_DECLINED' } });

    const views: UploadRequestView[] = [];
    b.app.on('upload-request', (u) => views.push(u));
    const second = a.app.upload(peer.id, [file], '');
    const end2 = await until(a.app, (x) => x.id === second.id && ended(x));
    expect(end2).toMatchObject({ state: 'failed', error: { code: 'FERRY_ERR_DECLINED' } });
    expect(views.map((u) => u.state)).toEqual(['waiting', 'expired']);
    expect(() => b.app.answerUpload(views[0]!.id, true)).toThrow(
      expect.objectContaining({ code: 'FERRY_ERR_NOT_FOUND' }),
    );
    expect(fs.readdirSync(b.shared)).toEqual([]);
  });
});

describe('a peer whose certificate changed', () => {
  it('is refused with IDENTITY_CHANGED, shown on the peer, and nothing is listed or sent', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    trustEachOther(a, b);
    const peer = await a.app.addPeer(b.app.device().address);
    const port = b.app.device().port;
    await b.app.close();
    // Another device (a new identity: another home) now answers at the same address.
    const impostor = await makeApp('bravo', { defaults: { port } });
    expect(impostor.app.device().port).toBe(port);
    const checked = await a.app.checkPeer(peer.id);
    expect(checked).toMatchObject({ online: false, error: { code: 'FERRY_ERR_IDENTITY_CHANGED' } });
    expect(checked.error?.message).toContain(impostor.app.device().deviceId);
    await expect(a.app.list(peer.id, '')).rejects.toMatchObject({ code: 'FERRY_ERR_IDENTITY_CHANGED' });
    // The pin stays what it was: nothing updates it silently.
    expect(peerWith(a.app, b.app.device().deviceId)?.id).toBe(peer.id);
    expect(impostor.app.pendingPairings()).toEqual([]);
  });
});

describe('the peer list', () => {
  it('lists each device once: added, trusted without an address, or trusted and added', async () => {
    const a = await makeApp('alpha');
    const b = await makeApp('bravo');
    TrustStore.load(a.home).add({ fingerprint: loadIdentity(b.home).fingerprint, name: 'Bravo (paired)' });
    const listed = a.app.peers();
    expect(listed).toEqual([
      expect.objectContaining({ address: '', name: 'Bravo (paired)', trusted: true, online: false }),
    ]);
    // Browsing it needs its address.
    await expect(a.app.list(listed[0]!.id, '')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_FOUND' });
    const added = await a.app.addPeer(b.app.device().address);
    expect(a.app.peers()).toEqual([expect.objectContaining({ id: added.id, trusted: true, online: true })]);
  });
});

describe('nearby devices', () => {
  /** A UDP port of this test's own for the announcements, on loopback (nothing leaves the machine). */
  async function nearbyOptions(): Promise<Partial<AppOptions>> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const discoveryPort = s.address().port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return { discovery: { discoveryPort, interface: '127.0.0.1', announceEveryMs: 200, expireAfterMs: 1000 } };
  }

  async function poll<T>(what: string, check: () => T | undefined, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('lists a device heard nearby, not paired; pairs with it at its announced address; it stays once added', async () => {
    const opts = await nearbyOptions();
    const a = await makeApp('alpha', opts);
    const b = await makeApp('bravo', opts);
    const idB = b.app.device().deviceId;
    const heard = await poll('bravo nearby', () => peerWith(a.app, idB));
    expect(heard).toMatchObject({
      name: 'bravo',
      address: `127.0.0.1:${b.app.device().port}`,
      discovered: true,
      trusted: false,
    });
    await poll('alpha nearby', () => peerWith(b.app, a.app.device().deviceId));
    // Heard is not paired: nothing is listed.
    await expect(a.app.list(heard.id, '')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });

    const asked = next(b.app, 'pairing', (v) => v.state === 'waiting');
    const accepted = next(a.app, 'pairing', (v) => v.state === 'accepted');
    await a.app.pair(heard.id);
    b.app.answerPairing((await asked).id, true);
    await accepted;
    expect(peerWith(a.app, idB)).toMatchObject({ id: heard.id, trusted: true, discovered: true });
    expect(await a.app.list(heard.id, '')).toEqual([]);

    // Gone quiet: still listed (it was added by pairing), no longer nearby.
    await b.app.close();
    await poll('bravo gone', () => (peerWith(a.app, idB)?.discovered ? undefined : true));
    expect(peerWith(a.app, idB)).toMatchObject({ id: heard.id, trusted: true });
  });

  it('lists nobody nearby once turned off', async () => {
    const opts = await nearbyOptions();
    const a = await makeApp('alpha', opts);
    const b = await makeApp('bravo', opts);
    await poll('bravo nearby', () => peerWith(a.app, b.app.device().deviceId));
    const d = await a.app.updateDevice({ discovery: false });
    expect(d.discovery).toBe(false);
    expect(a.app.peers()).toEqual([]);
  });
});
