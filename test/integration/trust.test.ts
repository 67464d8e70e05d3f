/**
 * Devices that know each other, over real TLS 1.3 sockets: an untrusted peer may only say hello
 * and pair; pairing through the real protocol gives both sides the same code and mutual trust;
 * revoking takes effect on the next request; uploads without "send without asking" wait for an
 * answer; and a machine in the middle is refused on both sides, its pairing codes never match.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FerryClient } from '../../electron/core/client.js';
import { type Identity, loadOrCreateIdentity, TrustStore } from '../../electron/core/identity/index.js';
import { FerryServer, type IncomingPairing } from '../../electron/core/server.js';
import { sha256, writeRandom } from '../helpers/engine.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Device {
  home: string;
  dir: string;
  identity: Identity;
  trust: TrustStore;
}

async function device(name: string): Promise<Device> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-trust-${name}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const home = path.join(dir, 'home');
  const identity = await loadOrCreateIdentity(home);
  return { home, dir, identity, trust: TrustStore.load(home) };
}

async function serve(d: Device, extra: { askTimeoutMs?: number } = {}): Promise<FerryServer> {
  const root = path.join(d.dir, 'share');
  fs.mkdirSync(root, { recursive: true });
  const s = await FerryServer.start({
    root,
    identity: { name: 'server', device: '' },
    tls: { identity: d.identity, trust: d.trust },
    ...extra,
  });
  cleanups.push(() => s.close());
  return s;
}

async function connect(d: Device, addr: string, expect?: Buffer[]): Promise<FerryClient> {
  const c = await FerryClient.connect(addr, {
    identity: { name: 'client', device: '' },
    tls: { identity: d.identity, trust: d.trust, ...(expect ? { expect } : {}) },
  });
  cleanups.push(() => c.close());
  return c;
}

/** Pair client device a with server device b through the real protocol; returns both codes. */
async function pair(
  a: Device,
  server: FerryServer,
  approve = true,
): Promise<{ client: string; server: string; outcome: string }> {
  const seen = new Promise<IncomingPairing>((resolve) => server.once('pairing', resolve));
  const c = await connect(a, server.address().text);
  const initiator = c.pair();
  const incoming = await seen;
  const serverCode = await incoming.code;
  if (approve) incoming.approve();
  else incoming.decline();
  const outcome = await initiator.result;
  return { client: await initiator.code, server: serverCode, outcome };
}

describe('an untrusted peer', () => {
  it('may not list, upload or download (NOT_TRUSTED), and the server files stay untouched', async () => {
    const a = await device('a');
    const b = await device('b');
    const server = await serve(b);
    fs.writeFileSync(path.join(b.dir, 'share', 'secret.txt'), 'mine');
    // a trusts b, b does not trust a: the server is the one that refuses.
    a.trust.add({ fingerprint: b.identity.fingerprint, name: 'b' });
    const c = await connect(a, server.address().text);
    await expect(c.list('')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
    const file = path.join(a.dir, 'x.txt');
    fs.writeFileSync(file, 'hello');
    await expect(c.upload([file]).result()).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
    await expect(c.download(['secret.txt'], { out: path.join(a.dir, 'dl') }).result()).rejects.toMatchObject({
      code: 'FERRY_ERR_NOT_TRUSTED',
    });
    expect(fs.readdirSync(path.join(b.dir, 'share'))).toEqual(['secret.txt']);
    expect(fs.existsSync(path.join(a.dir, 'dl', 'secret.txt'))).toBe(false);
  });

  it('is not shown or sent anything by a client that does not trust it', async () => {
    const a = await device('a');
    const b = await device('b');
    b.trust.add({ fingerprint: a.identity.fingerprint, name: 'a' }); // b trusts a, a does not trust b
    const server = await serve(b);
    const c = await connect(a, server.address().text);
    await expect(c.list('')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
    const file = path.join(a.dir, 'y.txt');
    fs.writeFileSync(file, 'not for strangers');
    await expect(c.upload([file]).result()).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
    expect(fs.readdirSync(path.join(b.dir, 'share'))).toEqual([]);
  });

  it('is refused before a byte is sent when it is not the device pinned with --trust (IDENTITY_CHANGED)', async () => {
    const a = await device('a');
    const b = await device('b');
    const other = await device('other');
    const server = await serve(b);
    await expect(connect(a, server.address().text, [other.identity.fingerprint])).rejects.toMatchObject({
      code: 'FERRY_ERR_IDENTITY_CHANGED',
    });
  });
});

describe('pairing', () => {
  it('shows the same code on both sides, and then both trust each other', async () => {
    const a = await device('a');
    const b = await device('b');
    const server = await serve(b);
    const codes = await pair(a, server);
    expect(codes.client).toMatch(/^\d{6}$/);
    expect(codes.client).toBe(codes.server);
    expect(codes.outcome).toBe('accepted');
    expect(a.trust.get(b.identity.fingerprint)).toBeDefined();
    expect(b.trust.get(a.identity.fingerprint)?.permissions).toEqual({ browse: true, send: true, autoAccept: false });
    const c = await connect(a, server.address().text);
    expect(await c.list('')).toEqual([]);
  });

  it('declined: nobody trusts anybody', async () => {
    const a = await device('a');
    const b = await device('b');
    const server = await serve(b);
    const codes = await pair(a, server, false);
    expect(codes.outcome).toBe('declined');
    expect(a.trust.list()).toEqual([]);
    expect(b.trust.list()).toEqual([]);
  });

  it('revoking trust takes effect on the next request', async () => {
    const a = await device('a');
    const b = await device('b');
    const server = await serve(b);
    await pair(a, server);
    const c = await connect(a, server.address().text);
    expect(await c.list('')).toEqual([]);
    b.trust.remove(a.identity.deviceId);
    await expect(c.list('')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
  });
});

describe('permissions', () => {
  async function paired(opts: { askTimeoutMs?: number } = {}) {
    const a = await device('a');
    const b = await device('b');
    const server = await serve(b, opts);
    await pair(a, server);
    const c = await connect(a, server.address().text);
    return { a, b, server, c };
  }

  it('an upload waits for the person: accepted, it lands; the request names the files and the size', async () => {
    const { a, b, server, c } = await paired();
    const file = path.join(a.dir, 'photo.bin');
    writeRandom(file, 3000);
    server.once('upload', (req) => {
      expect(req.files).toEqual(['photo.bin']);
      expect(req.totalBytes).toBe(3000);
      req.accept();
    });
    await c.upload([file]).result();
    expect(sha256(path.join(b.dir, 'share', 'photo.bin'))).toBe(sha256(file));
  });

  it('declined, or unanswered in time, the upload fails with DECLINED and nothing is written', async () => {
    const { a, b, server, c } = await paired({ askTimeoutMs: 300 });
    const file = path.join(a.dir, 'no.bin');
    writeRandom(file, 100);
    server.once('upload', (req) => req.decline());
    await expect(c.upload([file]).result()).rejects.toMatchObject({ code: 'FERRY_ERR_DECLINED' });
    server.once('upload', () => undefined); // nobody answers
    await expect(c.upload([file]).result()).rejects.toMatchObject({ code: 'FERRY_ERR_DECLINED' });
    expect(fs.readdirSync(path.join(b.dir, 'share'))).toEqual([]);
  });

  it('"send without asking" skips the question; without "browse" listing is refused', async () => {
    const { a, b, c } = await paired();
    b.trust.update(a.identity.deviceId, { autoAccept: true, browse: false });
    const file = path.join(a.dir, 'auto.bin');
    writeRandom(file, 10);
    await c.upload([file]).result();
    expect(fs.existsSync(path.join(b.dir, 'share', 'auto.bin'))).toBe(true);
    await expect(c.list('')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
  });
});

describe('a machine in the middle', () => {
  it('is refused on both sides, and the pairing codes it provokes do not match', async () => {
    const a = await device('a');
    const b = await device('b');
    const m = await device('mallory');
    const server = await serve(b);
    await pair(a, server); // a and b are paired for real

    // Mallory answers on another address with its own certificate, and would relay to b.
    const mitm = await serve(m);
    // To a, it is not b: nothing is listed or sent (a's trust holds b's fingerprint, not Mallory's).
    const viaM = await connect(a, mitm.address().text);
    expect(viaM.peerDeviceId).toBe(m.identity.deviceId);
    await expect(viaM.list('')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });
    // To b, Mallory is not a: b refuses it.
    const mToB = await connect(m, server.address().text, [b.identity.fingerprint]);
    m.trust.add({ fingerprint: b.identity.fingerprint, name: 'b' });
    await expect(mToB.list('')).rejects.toMatchObject({ code: 'FERRY_ERR_NOT_TRUSTED' });

    // Mallory tries to get paired both ways at once: a pairs with "b" (really Mallory), and
    // Mallory pairs with b. Each side's code covers the fingerprints it sees, so they differ.
    const c = await device('c'); // a fresh device, not yet paired with anyone
    const fromC = new Promise<IncomingPairing>((resolve) => mitm.once('pairing', resolve));
    const cToM = await connect(c, mitm.address().text);
    const cPairing = cToM.pair();
    const mIncoming = await fromC;
    const toB = new Promise<IncomingPairing>((resolve) => server.once('pairing', resolve));
    const mPairing = mToB.pair();
    const bIncoming = await toB;
    const codeOnC = await cPairing.code;
    const codeOnB = await bIncoming.code;
    expect(await mIncoming.code).toMatch(/^\d{6}$/);
    expect(await mPairing.code).toMatch(/^\d{6}$/);
    // What the two people compare: c's screen against b's screen.
    expect(codeOnC).not.toBe(codeOnB);
    // b's person sees Mallory's device ID, not c's.
    expect(bIncoming.peer.deviceId).toBe(m.identity.deviceId);
    bIncoming.decline();
    mIncoming.decline();
    expect(await cPairing.result).toBe('declined');
  });
});

describe('one device, two terminals', () => {
  it('trusts itself: a client with the same identity (the same home) lists and sends without pairing', async () => {
    const a = await device('a');
    const server = await serve(a);
    const c = await connect(a, server.address().text);
    expect(c.peerTrusted).toBe(true);
    const file = path.join(a.dir, 'self.txt');
    fs.writeFileSync(file, 'to myself');
    await c.upload([file]).result();
    expect(fs.readFileSync(path.join(a.dir, 'share', 'self.txt'), 'utf8')).toBe('to myself');
    expect((await c.list('')).map((e) => e.name)).toEqual(['self.txt']);
    expect(a.trust.list()).toEqual([]);
  });
});
