/**
 * The built preload (dist/electron/preload/preload.cjs), run under plain Node with a stand-in
 * 'electron' module: it must expose exactly the contract's requests and events as `window.ferry`,
 * forward nothing else, hand the page no IPC event objects, and require nothing but 'electron'
 * (a sandboxed preload can require little else). The names are also checked at compile time:
 * preload.cts types its tables as Record<Name, true>.
 */
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES, REQUEST_NAMES } from '../../shared/contract.js';
import { REPO } from '../helpers/cli.js';

const BUILT = path.join(REPO, 'dist', 'electron', 'preload', 'preload.cjs');

type Listener = (event: unknown, payload: unknown) => void;

interface Bridge {
  request(name: string, arg: unknown): Promise<unknown>;
  on(name: string, cb: (payload: unknown) => void): () => void;
  pathForFile(file: unknown): string;
  platform: string;
}

const exposed = new Map<string, unknown>();
const invoked: [string, unknown][] = [];
const listeners = new Map<string, Set<Listener>>();
const requiredByPreload: string[] = [];
let exports: { PRELOAD_REQUEST_NAMES: string[]; PRELOAD_EVENT_NAMES: string[] };

const fakeElectron = {
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
  ipcRenderer: {
    invoke: (channel: string, arg: unknown) => {
      invoked.push([channel, arg]);
      return Promise.resolve({ ok: true, value: channel });
    },
    on: (channel: string, l: Listener) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(l);
    },
    removeListener: (channel: string, l: Listener) => listeners.get(channel)?.delete(l),
  },
  webUtils: { getPathForFile: (f: { name: string }) => `/dropped/${f.name}` },
};

beforeAll(() => {
  if (!fs.existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first (npm test does)`);
  const M = Module as unknown as {
    _load(request: string, parent: { filename?: string } | null, isMain: boolean): unknown;
  };
  const original = M._load;
  M._load = function (request, parent, isMain) {
    if (parent?.filename === BUILT) requiredByPreload.push(request);
    if (request === 'electron') return fakeElectron;
    return original.call(this, request, parent, isMain);
  };
  try {
    const req = createRequire(import.meta.url);
    delete req.cache[BUILT];
    exports = req(BUILT) as typeof exports;
  } finally {
    M._load = original;
  }
});

const bridge = (): Bridge => exposed.get('ferry') as Bridge;

describe('the preload', () => {
  it("requires only 'electron' and exposes one object, window.ferry, with four members", () => {
    expect(requiredByPreload).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['ferry']);
    expect(Object.keys(bridge()).sort()).toEqual(['on', 'pathForFile', 'platform', 'request']);
    expect(bridge().platform).toBe(process.platform);
  });

  it("accepts exactly the contract's request and event names", () => {
    expect([...exports.PRELOAD_REQUEST_NAMES].sort()).toEqual([...REQUEST_NAMES].sort());
    expect([...exports.PRELOAD_EVENT_NAMES].sort()).toEqual([...EVENT_NAMES].sort());
  });

  it('forwards every contract request to its own channel, with its argument', async () => {
    invoked.length = 0;
    for (const name of REQUEST_NAMES) {
      await expect(bridge().request(name, { n: name })).resolves.toEqual({ ok: true, value: `ferry:request:${name}` });
    }
    expect(invoked).toEqual(REQUEST_NAMES.map((name) => [`ferry:request:${name}`, { n: name }]));
  });

  it('answers any other name with FERRY_ERR_BAD_ARGUMENT without touching IPC', async () => {
    invoked.length = 0;
    for (const name of [
      'fs.readFile',
      'device',
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      '',
      42,
      null,
    ]) {
      await expect(bridge().request(name as string, null)).resolves.toMatchObject({
        ok: false,
        error: { code: 'FERRY_ERR_BAD_ARGUMENT' },
      });
    }
    expect(invoked).toEqual([]);
  });

  it('subscribes to contract events only, passes the payload alone, and unsubscribes', () => {
    for (const name of EVENT_NAMES) {
      const got: unknown[] = [];
      const off = bridge().on(name, (...args: unknown[]) => got.push(args));
      const set = listeners.get(`ferry:event:${name}`);
      expect(set?.size).toBe(1);
      const ipcEvent = { sender: fakeElectron.ipcRenderer };
      for (const l of set!) l(ipcEvent, { payload: name });
      // The IPC event (whose sender is ipcRenderer) never reaches the page.
      expect(got).toEqual([[{ payload: name }]]);
      off();
      expect(set?.size).toBe(0);
    }
    for (const name of ['device.get', 'constructor', '__proto__', 'ferry:request:device.get']) {
      expect(() => bridge().on(name, () => undefined)).toThrow(/Unknown event/);
    }
    expect(() => bridge().on('device', 'not a function' as unknown as () => void)).toThrow();
  });

  it("gives a dropped File's path through webUtils", () => {
    expect(bridge().pathForFile({ name: 'a.txt' })).toBe('/dropped/a.txt');
  });
});
