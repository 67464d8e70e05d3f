/**
 * The browser shell's bridge against a real WebSocket server on 127.0.0.1 (the `ws` package,
 * which the shell uses too), through a real WebSocket client with the browser's API (ws's
 * client: jsdom's own fails to dispatch open/close under vitest): requests and responses,
 * events, the shell's reads of registered files, and what happens when the socket drops.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocketServer as Server, WebSocket as ServerSocket } from 'ws';
import type { FromPage, ToPage } from '../../../shared/ws-protocol.js';
import type { ConnectionState } from '../../../renderer/src/lib/bridge.js';
import { webSocketUrl } from '../../../renderer/src/lib/bridge.js';
import { WebBridge } from '../../../renderer/src/lib/web-bridge.js';
import { device } from './fixtures.js';

// Node's own resolution: this project resolves packages for the browser, where `ws` has no server.
const { WebSocketServer, WebSocket: Client } = createRequire(import.meta.url)('ws') as typeof import('ws');
type WebSocketServer = Server;

interface Shell {
  wss: WebSocketServer;
  port: number;
  sockets: ServerSocket[];
  /** Text messages from the page, parsed, and binary ones as bytes. */
  texts: FromPage[];
  binaries: Uint8Array[];
  next(): Promise<ServerSocket>;
}

let shells: WebSocketServer[] = [];
let bridges: WebBridge[] = [];

afterEach(async () => {
  for (const b of bridges) b.close();
  for (const s of shells) for (const c of s.clients) c.terminate();
  await Promise.all(shells.map((s) => new Promise((r) => s.close(r))));
  shells = [];
  bridges = [];
});

async function shell(answer: (m: FromPage, ws: ServerSocket) => void = () => undefined, port = 0): Promise<Shell> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, path: '/ws' });
  shells.push(wss);
  await new Promise((r) => wss.once('listening', r));
  const s: Shell = {
    wss,
    port: (wss.address() as AddressInfo).port,
    sockets: [],
    texts: [],
    binaries: [],
    next: () => new Promise((r) => wss.once('connection', r)),
  };
  wss.on('connection', (ws, req) => {
    expect(req.url).toBe('/ws?token=s3cret');
    s.sockets.push(ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) s.binaries.push(new Uint8Array(data as Buffer));
      else {
        const m = JSON.parse((data as Buffer).toString()) as FromPage;
        s.texts.push(m);
        answer(m, ws);
      }
    });
  });
  return s;
}

function bridge(port: number, retryMs = 20, delays: number[] = []): WebBridge {
  const b = new WebBridge({
    url: `ws://127.0.0.1:${port}/ws?token=s3cret`,
    createSocket: (url) => new Client(url) as unknown as WebSocket,
    setTimer: (fn, ms) => {
      delays.push(ms);
      return setTimeout(fn, ms);
    },
    retryMs,
    maxRetryMs: 160,
  });
  bridges.push(b);
  return b;
}

const send = (ws: ServerSocket, m: ToPage) => ws.send(JSON.stringify(m));
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('webSocketUrl', () => {
  it("is the page's own host, the /ws path and the page's token", () => {
    expect(webSocketUrl({ protocol: 'http:', host: '127.0.0.1:4321', search: '?token=a%2Bb' })).toBe(
      'ws://127.0.0.1:4321/ws?token=a%2Bb',
    );
  });
});

describe('WebBridge', () => {
  it('matches responses to requests, sent before the socket opened or after, and throws {code, message} for errors', async () => {
    const s = await shell((m, ws) => {
      if (m.type !== 'request') return;
      if (m.name === 'device.get') send(ws, { type: 'response', id: m.id, result: { ok: true, value: device() } });
      else
        send(ws, {
          type: 'response',
          id: m.id,
          result: { ok: false, error: { code: 'FERRY_ERR_NOT_FOUND', message: 'That peer is no longer in the list' } },
        });
    });
    const b = bridge(s.port);
    // Asked while still connecting: queued, then sent.
    const first = b.request('device.get', null);
    const second = b.request('peers.remove', { id: 'p1' });
    await expect(first).resolves.toMatchObject({ name: 'Alpha' });
    await expect(second).rejects.toMatchObject({
      code: 'FERRY_ERR_NOT_FOUND',
      message: 'That peer is no longer in the list',
    });
    expect(s.texts).toEqual([
      { type: 'request', id: 1, name: 'device.get', arg: null },
      { type: 'request', id: 2, name: 'peers.remove', arg: { id: 'p1' } },
    ]);
  });

  it('passes events to their listeners until they unsubscribe', async () => {
    const s = await shell();
    const b = bridge(s.port);
    const ws = await s.next();
    const names: string[] = [];
    const off = b.on('device', (d) => names.push(d.name));
    send(ws, { type: 'event', name: 'device', payload: device({ name: 'One' }) });
    send(ws, { type: 'event', name: 'peers', payload: [] });
    await until(() => names.length === 1);
    off();
    send(ws, { type: 'event', name: 'device', payload: device({ name: 'Two' }) });
    await new Promise((r) => setTimeout(r, 50));
    expect(names).toEqual(['One']);
  });

  it("answers the shell's reads of a registered file with [u32 BE id][bytes], and a read-error for an unknown handle", async () => {
    const s = await shell();
    const b = bridge(s.port);
    const ws = await s.next();
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
    const handle = b.registerFile(new File([bytes], 'a.bin'));
    send(ws, { type: 'read', id: 0x01020304, handle, position: 100, length: 50 });
    send(ws, { type: 'read', id: 9, handle, position: 990, length: 64 }); // past the end: fewer bytes
    send(ws, { type: 'read', id: 10, handle: handle + 99, position: 0, length: 1 });
    await until(() => s.binaries.length === 2 && s.texts.length === 1);
    const byId = new Map(
      s.binaries.map((m) => [new DataView(m.buffer, m.byteOffset).getUint32(0, false), m.subarray(4)]),
    );
    expect(s.binaries.some((m) => [...m.subarray(0, 4)].join() === '1,2,3,4')).toBe(true);
    expect(byId.get(0x01020304)).toEqual(bytes.subarray(100, 150));
    expect(byId.get(9)).toEqual(bytes.subarray(990));
    expect(s.texts[0]).toMatchObject({ type: 'read-error', id: 10 });
  });

  it('fails the requests in flight when the socket drops, says "closed", reconnects and says "open"', async () => {
    const s = await shell();
    const b = bridge(s.port);
    const states: ConnectionState[] = [];
    b.onConnection((st) => states.push(st));
    const ws = await s.next();
    await until(() => states.at(-1) === 'open');
    const pending = b.request('peers.list', null);
    await until(() => s.texts.length === 1);
    const again = s.next();
    ws.terminate();
    await expect(pending).rejects.toMatchObject({ code: 'FERRY_ERR_CONNECTION_LOST' });
    await again;
    await until(() => states.at(-1) === 'open');
    expect(states).toEqual(['connecting', 'open', 'closed', 'open']);
  });

  it('refuses requests while disconnected instead of hanging, and backs off between attempts', async () => {
    const s = await shell();
    const port = s.port;
    const delays: number[] = [];
    const b = bridge(port, 20, delays);
    const states: ConnectionState[] = [];
    b.onConnection((st) => states.push(st));
    const ws = await s.next();
    await until(() => states.at(-1) === 'open');
    // The shell goes away for a while.
    ws.terminate();
    await new Promise((r) => s.wss.close(r));
    await until(() => states.at(-1) === 'closed');
    await expect(b.request('device.get', null)).rejects.toMatchObject({ code: 'FERRY_ERR_CONNECTION_LOST' });
    await until(() => delays.length >= 5);
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 160, 160]);
    // It comes back on the same port: the bridge finds it again.
    const back = await shell((m, sock) => {
      if (m.type === 'request')
        send(sock, { type: 'response', id: m.id, result: { ok: true, value: device({ name: 'Back' }) } });
    }, port);
    await back.next();
    await until(() => states.at(-1) === 'open');
    await expect(b.request('device.get', null)).resolves.toMatchObject({ name: 'Back' });
    // Connected again: the next drop starts from the short delay.
    const n = delays.length;
    back.sockets[0]!.terminate();
    await until(() => delays.length > n);
    expect(delays[n]).toBe(20);
  });
});
