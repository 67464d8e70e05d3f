/**
 * The browser shell, for real: an http + WebSocket server on 127.0.0.1:0 in front of a real
 * FerryApp, a second real FerryApp as the peer, and "pages" that are plain WebSocket clients
 * speaking shared/ws-protocol.ts. What is checked is what stands between a hostile web page and
 * the engine (token, Host, Origin, paths) and what a real page relies on (requests, events,
 * streamed uploads whose bytes the engine reads from the page).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FerryApp } from '../../electron/core/app/app-service.js';
import { loadIdentity, TrustStore } from '../../electron/core/identity/index.js';
import { startWebShell, MAX_MESSAGE_BYTES, type WebShell } from '../../electron/web/shell.js';
import type { EventName, PairingView, PeerState, Result, StreamedEntry, TransferView } from '../../shared/contract.js';
import type { ToPage, WsEvent } from '../../shared/ws-protocol.js';
import { READ_ID_BYTES, WS_PATH } from '../../shared/ws-protocol.js';
import { assertBuilt, collect, REPO, spawnFerry } from '../helpers/cli.js';
import { makeTmp, writeTree } from '../helpers/tmp.js';

const MiB = 1024 * 1024;
const META_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'";
const SECRET = 'secret outside the renderer folder';

// ---- fixtures -----------------------------------------------------------------------------

let base: string;
let site: string;
let app: FerryApp;
let peerApp: FerryApp;
let peerShare: string;
let shell: WebShell;

async function startApp(dir: string, name: string): Promise<FerryApp> {
  return FerryApp.start({
    home: path.join(dir, 'home'),
    peerCheckMs: 0,
    discovery: false,
    defaults: { name, sharedFolder: path.join(dir, 'share'), downloadFolder: path.join(dir, 'downloads'), port: 0 },
  });
}

beforeAll(async () => {
  base = makeTmp('ferry-web-');
  site = path.join(base, 'site');
  writeTree(base, {
    'secret.txt': SECRET,
    'site/index.html': `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${META_CSP}"><script type="module" src="/assets/app.js"></script></head><body>Ferry</body></html>`,
    'site/assets/app.js': 'console.log("ferry");\n',
    'site/assets/app.css': 'body { margin: 0 }\n',
    'site/sub': null,
  });
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(site, 'link.txt'));
  app = await startApp(path.join(base, 'a'), 'Alpha');
  peerApp = await startApp(path.join(base, 'b'), 'Beta');
  // Paired through the engine (as `--trust` would), Beta taking Alpha's uploads without asking:
  // these tests are about the shell, pairing has its own.
  const [homeA, homeB] = [path.join(base, 'a', 'home'), path.join(base, 'b', 'home')];
  TrustStore.load(homeA).add({ fingerprint: loadIdentity(homeB).fingerprint, name: 'Beta' });
  TrustStore.load(homeB).add({
    fingerprint: loadIdentity(homeA).fingerprint,
    name: 'Alpha',
    permissions: { autoAccept: true },
  });
  peerShare = path.join(base, 'b', 'share');
  shell = await startWebShell({ app, rendererDir: site, readTimeoutMs: 2000 });
});

afterAll(async () => {
  await shell?.close();
  await app?.close();
  await peerApp?.close();
});

// ---- plain HTTP ---------------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Send `head` (request line and headers, without the blank line) as is, and read the answer. */
function raw(port: number, head: string, connection = 'close'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => {
      sock.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const [top = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = top.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of headerLines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    };
    sock.on('data', (c) => {
      chunks.push(c);
      // A successful upgrade keeps the socket open: its headers are all there is to read.
      if (
        Buffer.concat(chunks).toString('latin1').startsWith('HTTP/1.1 101') &&
        Buffer.concat(chunks).includes('\r\n\r\n')
      )
        done();
    });
    sock.on('end', done);
    sock.on('error', reject);
    sock.write(`${head}\r\nConnection: ${connection}\r\n\r\n`);
  });
}

function get(target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const lines = Object.entries({ Host: `127.0.0.1:${shell.port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  return raw(shell.port, [`GET ${target} HTTP/1.1`, ...lines].join('\r\n'));
}

const withToken = (p: string): string => `${p}${p.includes('?') ? '&' : '?'}token=${shell.token}`;

function upgrade(target: string, headers: Record<string, string | undefined>): Promise<RawResponse> {
  const all: Record<string, string | undefined> = {
    Host: `127.0.0.1:${shell.port}`,
    Origin: `http://127.0.0.1:${shell.port}`,
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    ...headers,
  };
  const lines = Object.entries(all)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}: ${v}`);
  return raw(shell.port, [`GET ${target} HTTP/1.1`, ...lines].join('\r\n'), 'Upgrade');
}

describe('the browser shell over HTTP', () => {
  it('prints a URL on 127.0.0.1 carrying a 32-character random token', () => {
    expect(shell.url).toBe(`http://127.0.0.1:${shell.port}/?token=${shell.token}`);
    expect(shell.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('serves index.html with the token, with the security headers and the token cookie', async () => {
    const r = await get(withToken('/'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<body>Ferry</body>');
    expect(r.headers['content-security-policy']).toBe(`${META_CSP}; frame-ancestors 'none'`);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    const cookie = r.headers['set-cookie'] ?? '';
    expect(cookie).toContain(`ferry_token_${shell.port}=${shell.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
  });

  it('refuses every request without the token, or with a wrong one (403)', async () => {
    for (const target of [
      '/',
      '/index.html',
      '/assets/app.js',
      '/?token=',
      `/?token=${shell.token.slice(0, -1)}${shell.token.endsWith('A') ? 'B' : 'A'}`,
      `/?token=${shell.token}x`,
    ]) {
      const r = await get(target);
      expect(r.status, target).toBe(403);
      expect(r.body).not.toContain('Ferry</body>');
    }
    const wrongCookie = await get('/assets/app.js', { Cookie: `ferry_token_${shell.port}=nope` });
    expect(wrongCookie.status).toBe(403);
  });

  it("serves the page's assets with the cookie the index page set, typed by extension", async () => {
    const cookie = `other=1; ferry_token_${shell.port}=${shell.token}`;
    const js = await get('/assets/app.js', { Cookie: cookie });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toBe('console.log("ferry");\n');
    const css = await get('/assets/app.css', { Cookie: cookie });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    // A cookie is not a new token: it is not set again on assets reached by cookie.
    expect(js.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a Host header that is not 127.0.0.1:PORT or localhost:PORT (DNS rebinding), 403', async () => {
    for (const host of [
      'evil.example',
      `evil.example:${shell.port}`,
      `127.0.0.1:${shell.port + 1}`,
      '127.0.0.1',
      `localhost.evil.example:${shell.port}`,
    ]) {
      const r = await get(withToken('/'), { Host: host });
      expect(r.status, host).toBe(403);
      expect(r.body).not.toContain('Ferry</body>');
    }
    expect((await get(withToken('/'), { Host: `localhost:${shell.port}` })).status).toBe(200);
  });

  it('never serves anything outside the renderer folder, nor lists a folder (404)', async () => {
    const targets = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e/',
      '/./index.html',
      '/assets/%2e/app.js',
      '/assets/../index.html',
      '/..%5csecret.txt',
      '/link.txt', // a link inside the folder that points out of it
      '/sub/',
      '/sub',
      '/assets/',
      '/missing.js',
      '/%00',
      '/%E0%A4%A',
      '//etc/passwd',
      `http://127.0.0.1:${shell.port}/index.html`, // absolute form: not how a browser asks
      'http://[/',
    ];
    for (const target of targets) {
      const r = await get(withToken(target));
      expect(r.status, target).toBe(404);
      expect(r.body, target).not.toContain(SECRET);
    }
  });

  it('answers only GET and HEAD (405)', async () => {
    const r = await raw(
      shell.port,
      `POST ${withToken('/')} HTTP/1.1\r\nHost: 127.0.0.1:${shell.port}\r\nContent-Length: 0`,
    );
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });
});

// ---- the WebSocket ------------------------------------------------------------------------

describe('the WebSocket upgrade', () => {
  const wsPath = (): string => withToken(WS_PATH);

  it('is accepted with the token, our Host and our Origin (101)', async () => {
    expect((await upgrade(wsPath(), {})).status).toBe(101);
    expect(
      (await upgrade(wsPath(), { Host: `localhost:${shell.port}`, Origin: `http://localhost:${shell.port}` })).status,
    ).toBe(101);
    expect((await upgrade(WS_PATH, { Cookie: `ferry_token_${shell.port}=${shell.token}` })).status).toBe(101);
  });

  it('is refused without the token (403)', async () => {
    expect((await upgrade(WS_PATH, {})).status).toBe(403);
    expect((await upgrade(`${WS_PATH}?token=wrong`, {})).status).toBe(403);
  });

  it('is refused from another Origin, or none (403)', async () => {
    for (const origin of [
      'http://evil.example',
      `http://evil.example:${shell.port}`,
      `https://127.0.0.1:${shell.port}`,
      `http://127.0.0.1:${shell.port + 1}`,
      'null',
      undefined,
    ]) {
      expect((await upgrade(wsPath(), { Origin: origin })).status, String(origin)).toBe(403);
    }
  });

  it('is refused with a foreign Host (403) and on any other path (404)', async () => {
    expect((await upgrade(wsPath(), { Host: 'evil.example' })).status).toBe(403);
    expect((await upgrade(withToken('/socket'), {})).status).toBe(404);
  });
});

/** A page: a WebSocket client that speaks the protocol and can hand out "dropped" files. */
class Page {
  readonly events: WsEvent[] = [];
  readonly files = new Map<number, Buffer>();
  readonly reads: { handle: number; position: number; length: number }[] = [];
  /** Answer reads (default); when false, reads are recorded and left unanswered. */
  answerReads = true;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Result<unknown>) => void>();
  private readonly eventWaiters: { test: (e: WsEvent) => boolean; resolve: (e: WsEvent) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse((data as Buffer).toString('utf8')) as ToPage;
      if (msg.type === 'response') this.waiting.get(msg.id)?.(msg.result);
      else if (msg.type === 'event') {
        this.events.push(msg);
        for (const w of [...this.eventWaiters]) {
          if (w.test(msg)) {
            this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1);
            w.resolve(msg);
          }
        }
      } else if (msg.type === 'read') {
        this.reads.push({ handle: msg.handle, position: msg.position, length: msg.length });
        if (!this.answerReads) return;
        const file = this.files.get(msg.handle);
        if (!file) {
          ws.send(JSON.stringify({ type: 'read-error', id: msg.id, message: `no file ${msg.handle}` }));
          return;
        }
        const id = Buffer.alloc(READ_ID_BYTES);
        id.writeUInt32BE(msg.id);
        ws.send(Buffer.concat([id, file.subarray(msg.position, msg.position + msg.length)]));
      }
    });
  }

  static open(target = shell): Promise<Page> {
    const ws = new WebSocket(`ws://127.0.0.1:${target.port}${WS_PATH}?token=${target.token}`, {
      origin: `http://127.0.0.1:${target.port}`,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Page(ws)));
      ws.once('error', reject);
    });
  }

  request<T = unknown>(name: string, arg?: unknown): Promise<Result<T>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (r: Result<unknown>) => void);
      this.ws.send(JSON.stringify({ type: 'request', id, name, ...(arg !== undefined ? { arg } : {}) }));
    });
  }

  async value<T>(name: string, arg?: unknown): Promise<T> {
    const r = await this.request<T>(name, arg);
    if (!r.ok) throw new Error(`${name} failed: ${r.error.code} ${r.error.message}`);
    return r.value;
  }

  event<E extends EventName>(
    name: E,
    test: (payload: WsEvent<E>['payload']) => boolean = () => true,
    ms = 15_000,
  ): Promise<WsEvent<E>> {
    const match = (e: WsEvent): boolean => e.name === name && test(e.payload as WsEvent<E>['payload']);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen as WsEvent<E>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${name} event within ${ms} ms`)), ms);
      this.eventWaiters.push({
        test: match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as WsEvent<E>);
        },
      });
    });
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

/** The next 'transfer' event from the app (in-process) for which `test` holds. */
function transferWhere(a: FerryApp, test: (v: TransferView) => boolean, ms = 20_000): Promise<TransferView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching transfer within ${ms} ms`)), ms);
    const on = (v: TransferView): void => {
      if (!test(v)) return;
      clearTimeout(timer);
      a.off('transfer', on);
      resolve(v);
    };
    a.on('transfer', on);
  });
}

async function addPeer(page: Page): Promise<PeerState> {
  return page.value<PeerState>('peers.add', { address: peerApp.device().address });
}

describe('the contract over the WebSocket', () => {
  it('answers a request with the same result as the app (device.get)', async () => {
    const page = await Page.open();
    const d = await page.value<{ deviceId: string; name: string }>('device.get', null);
    expect(d.deviceId).toBe(app.device().deviceId);
    expect(d.name).toBe('Alpha');
    // No argument at all is the same as null for requests that take none.
    expect((await page.request('peers.list')).ok).toBe(true);
    await page.close();
  });

  it('answers a bad argument or an unknown request with FERRY_ERR_BAD_ARGUMENT, and stays open', async () => {
    const page = await Page.open();
    const bad = [
      page.request('peers.add', { address: 42 }),
      page.request('device.update', { port: 'x' }),
      page.request('transfers.uploadStreamed', {
        peer: 'p',
        to: '',
        entries: [{ path: 'a', kind: 'file', size: 1, mtime: 0 }],
      }),
      page.request('fs.readFile', { path: '/etc/passwd' }),
      page.request('__proto__', null),
    ];
    for (const r of await Promise.all(bad)) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('FERRY_ERR_BAD_ARGUMENT');
    }
    expect((await page.request('device.get', null)).ok).toBe(true);
    await page.close();
  });

  it('answers the native pickers with FERRY_ERR_UNSUPPORTED (there are none in a browser)', async () => {
    const page = await Page.open();
    const r = await page.request('dialog.chooseFolder', { title: 'Pick' });
    expect(r).toMatchObject({ ok: false, error: { code: 'FERRY_ERR_UNSUPPORTED' } });
    await page.close();
  });

  it('closes a socket that sends something other than JSON (1007) or not of this protocol (1008)', async () => {
    const a = await Page.open();
    a.ws.send('{not json');
    expect((await a.closed).code).toBe(1007);
    const b = await Page.open();
    b.ws.send(JSON.stringify({ type: 'shell', id: 1, command: 'rm -rf /' }));
    expect((await b.closed).code).toBe(1008);
    const c = await Page.open();
    c.ws.send(Buffer.from([1, 2]));
    expect((await c.closed).code).toBe(1007);
  });

  it('closes a socket that sends a message over the size limit (1009)', async () => {
    const page = await Page.open();
    page.ws.send(Buffer.alloc(MAX_MESSAGE_BYTES + 1));
    expect((await page.closed).code).toBe(1009);
  });

  it("sends the app's events to every connected page, and stops when a page leaves", async () => {
    // Pages closed by earlier tests may still be leaving: start from none.
    await expect.poll(() => app.listenerCount('peers')).toBe(0);
    const before = app.listenerCount('peers');
    const one = await Page.open();
    const two = await Page.open();
    expect(app.listenerCount('peers')).toBe(before + 2);
    const peer = await addPeer(one);
    expect(peer.online).toBe(true);
    for (const page of [one, two]) {
      const e = await page.event('peers', (list) => list.some((p) => p.id === peer.id && p.online));
      expect(e.payload.find((p) => p.id === peer.id)?.name).toBe('Beta');
    }
    await one.close();
    await two.close();
    await expect.poll(() => app.listenerCount('peers')).toBe(before);
    for (const name of ['device', 'transfer', 'live', 'pairing', 'upload-request'] as const)
      expect(app.listenerCount(name)).toBe(0);
  });
});

describe('pairing from the page', () => {
  it("shows the page an incoming pairing with its code, and takes the page's answer", async () => {
    const gammaDir = path.join(base, 'g');
    const gamma = await startApp(gammaDir, 'Gamma');
    try {
      const page = await Page.open();
      const onGamma = await gamma.addPeer(app.device().address);
      const asked = gamma.pair(onGamma.id);
      const shown = await page.event('pairing', (v) => v.direction === 'incoming' && v.state === 'waiting');
      expect(shown.payload).toMatchObject({
        peerName: 'Gamma',
        peerDeviceId: gamma.device().deviceId,
        code: (await asked).code,
      });
      expect(await page.value<PairingView[]>('pairing.list', null)).toEqual([shown.payload]);
      const ended = new Promise<PairingView>((resolve) =>
        gamma.on('pairing', (v) => v.state !== 'waiting' && resolve(v)),
      );
      await page.value('pairing.answer', { id: shown.payload.id, approve: true });
      expect((await ended).state).toBe('accepted');
      const after = await page.event('pairing', (v) => v.id === shown.payload.id && v.state !== 'waiting');
      expect(after.payload.state).toBe('accepted');
      const peers = await page.value<PeerState[]>('peers.list', null);
      expect(peers.find((p) => p.deviceId === gamma.device().deviceId)).toMatchObject({ trusted: true, address: '' });
      await page.close();
    } finally {
      await gamma.close();
    }
  });
});

describe('uploads streamed from the page', () => {
  it('reads the dropped files from the page on demand and lands them bit-identical at the peer', async () => {
    const page = await Page.open();
    const big = randomBytes(3 * MiB + 12_345); // four blocks: reads at several positions
    const small = Buffer.from('a small file\n');
    page.files.set(7, big);
    page.files.set(8, small);
    const empty = Buffer.alloc(0);
    page.files.set(9, empty);
    const peer = await addPeer(page);
    const mtime = Date.UTC(2024, 4, 1, 9, 30);
    const entries: StreamedEntry[] = [
      { path: 'drop', kind: 'dir', size: 0, mtime },
      { path: 'drop/big.bin', kind: 'file', size: big.length, mtime, handle: 7 },
      { path: 'drop/inner/small.txt', kind: 'file', size: small.length, mtime, handle: 8 },
      { path: 'drop/empty', kind: 'file', size: 0, mtime, handle: 9 },
    ];
    const started = await page.value<TransferView>('transfers.uploadStreamed', { peer: peer.id, to: 'inbox', entries });
    expect(started.direction).toBe('upload');
    const end = await page.event(
      'transfer',
      (v) => v.id === started.id && ['done', 'failed', 'cancelled'].includes(v.state),
      30_000,
    );
    expect(end.payload.state, JSON.stringify(end.payload.error)).toBe('done');
    expect(end.payload.bytesDone).toBe(big.length + small.length);
    expect(fs.readFileSync(path.join(peerShare, 'inbox', 'drop', 'big.bin')).equals(big)).toBe(true);
    expect(fs.readFileSync(path.join(peerShare, 'inbox', 'drop', 'inner', 'small.txt')).equals(small)).toBe(true);
    expect(fs.statSync(path.join(peerShare, 'inbox', 'drop', 'empty')).size).toBe(0);
    expect(Math.round(fs.statSync(path.join(peerShare, 'inbox', 'drop', 'big.bin')).mtimeMs)).toBe(mtime);
    // The bytes came from the page, in several reads, each for a part of the file the engine named.
    const bigReads = page.reads.filter((r) => r.handle === 7);
    expect(bigReads.length).toBeGreaterThanOrEqual(4);
    expect(bigReads.reduce((n, r) => n + Math.min(r.length, big.length - r.position), 0)).toBeGreaterThanOrEqual(
      big.length,
    );
    await page.close();
  });

  it('fails the file with FERRY_ERR_IO, naming the reason, when the page cannot read it', async () => {
    const page = await Page.open();
    const peer = await addPeer(page);
    const entries: StreamedEntry[] = [
      { path: 'unreadable.bin', kind: 'file', size: 1000, mtime: Date.now(), handle: 404 },
    ];
    const started = await page.value<TransferView>('transfers.uploadStreamed', { peer: peer.id, to: '', entries });
    const end = await page.event(
      'transfer',
      (v) => v.id === started.id && ['done', 'failed', 'cancelled'].includes(v.state),
      30_000,
    );
    expect(end.payload.state).toBe('failed');
    expect(end.payload.failures[0]?.error.code).toBe('FERRY_ERR_IO');
    expect(end.payload.failures[0]?.error.message).toContain('no file 404');
    expect(fs.existsSync(path.join(peerShare, 'unreadable.bin'))).toBe(false);
    await page.close();
  });

  it('fails the transfer instead of hanging when the page goes away in the middle of a read', async () => {
    const page = await Page.open();
    const peer = await addPeer(page);
    page.answerReads = false;
    const entries: StreamedEntry[] = [{ path: 'gone.bin', kind: 'file', size: 5000, mtime: Date.now(), handle: 1 }];
    const started = await page.value<TransferView>('transfers.uploadStreamed', { peer: peer.id, to: '', entries });
    const ended = transferWhere(app, (v) => v.id === started.id && ['done', 'failed', 'cancelled'].includes(v.state));
    await expect.poll(() => page.reads.length).toBeGreaterThan(0);
    await page.close();
    const end = await ended;
    expect(end.state).toBe('failed');
    expect(end.failures[0]?.error.code).toBe('FERRY_ERR_IO');
  });

  it('fails the file with FERRY_ERR_TIMEOUT when the page never answers a read', async () => {
    const page = await Page.open();
    const peer = await addPeer(page);
    page.answerReads = false;
    const entries: StreamedEntry[] = [{ path: 'frozen.bin', kind: 'file', size: 5000, mtime: Date.now(), handle: 1 }];
    const started = await page.value<TransferView>('transfers.uploadStreamed', { peer: peer.id, to: '', entries });
    const end = await page.event(
      'transfer',
      (v) => v.id === started.id && ['done', 'failed', 'cancelled'].includes(v.state),
      20_000,
    );
    expect(end.payload.state).toBe('failed');
    expect(end.payload.failures[0]?.error.code).toBe('FERRY_ERR_TIMEOUT');
    await page.close();
  });
});

describe('closing the shell', () => {
  it('drops connected pages and stops listening, leaving the app running', async () => {
    const other = await startWebShell({ app, rendererDir: site, port: 0 });
    const page = await Page.open(other);
    await other.close();
    expect((await page.closed).code).toBe(1006);
    await expect(
      new Promise((resolve, reject) => http.get(`${other.url}`, resolve).on('error', reject)),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(app.device().serving).toBe(true);
  });
});

describe('ferry ui', () => {
  // Which of the two holds depends on whether the renderer has been built in this checkout.

  it('prints the UI and server addresses, serves the page, and stops on SIGTERM with 0', async () => {
    // npm test builds the renderer first; run alone, this says what is missing.
    expect(
      fs.existsSync(path.join(REPO, 'dist', 'renderer', 'index.html')),
      'dist/renderer is not built: run npm run build',
    ).toBe(true);
    assertBuilt();
    const dir = makeTmp('ferry-ui-');
    const child = spawnFerry([
      'ui',
      '--no-open',
      '--home',
      path.join(dir, 'home'),
      '--root',
      path.join(dir, 'share'),
      '--serve-port',
      '0',
    ]);
    const result = collect(child, 30_000);
    let out = '';
    child.stdout!.on('data', (s: string) => (out += s));
    await expect.poll(() => out.split('\n').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    const [uiLine = '', listenLine = ''] = out.split('\n');
    expect(uiLine).toMatch(/^ui at http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    // Every interface by default: the line gives the address another device would use.
    expect(listenLine).toMatch(/^listening on \d+\.\d+\.\d+\.\d+:\d+$/);
    const url = uiLine.slice('ui at '.length);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect((await fetch(url.replace(/\?token=.*/, ''))).status).toBe(403);
    const settings = JSON.parse(fs.readFileSync(path.join(dir, 'home', 'settings.json'), 'utf8')) as {
      sharedFolder: string;
    };
    expect(settings.sharedFolder).toBe(path.join(dir, 'share'));
    child.kill('SIGTERM');
    const r = await result;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('says in one line to run "npm run build" when the renderer is not built', async () => {
    assertBuilt();
    const dir = makeTmp('ferry-ui-');
    // A renderer folder with no build in it, as on a clone where only tsc has run.
    const r = await collect(
      spawnFerry(['ui', '--no-open', '--home', path.join(dir, 'home')], {
        env: { FERRY_RENDERER_DIR: path.join(dir, 'no-renderer') },
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^ferry: .*npm run build/);
    expect(fs.existsSync(path.join(dir, 'home', 'settings.json'))).toBe(false);
  });

  it('refuses a bad --port as a usage error (exit 2)', async () => {
    assertBuilt();
    const r = await collect(spawnFerry(['ui', '--no-open', '--port', '70000']));
    expect(r.code).toBe(2);
    expect(r.errLines[0]).toMatch(/^ferry: --port must be a whole number from 0 to 65535/);
  });
});
