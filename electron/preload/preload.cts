/**
 * The preload: the renderer's only door to the engine, exposed as `window.ferry` through
 * contextBridge. It forwards the contract's requests and events and nothing else: never
 * ipcRenderer itself, never a generic send, never an IPC event object (its `sender` is
 * ipcRenderer).
 *
 * A sandboxed preload is one CommonJS script that may require('electron') and little more, so
 * this file compiles alone to preload.cjs and imports only types. The name tables below are
 * typed as Record<Name, true>: a name added to or removed from shared/contract.ts and not here
 * (or the reverse) fails to compile, and test/unit/preload.test.ts checks the built file.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { EventName, Events, RequestArg, RequestName, RequestResult, Result } from '../../shared/contract.js';

const REQUESTS: Record<RequestName, true> = {
  'device.get': true,
  'device.update': true,
  'peers.list': true,
  'peers.add': true,
  'peers.remove': true,
  'peers.check': true,
  'peers.pair': true,
  'peers.permissions': true,
  'peers.untrust': true,
  'pairing.answer': true,
  'pairing.list': true,
  'uploads.answer': true,
  'uploads.requests': true,
  'browse.list': true,
  'transfers.list': true,
  'transfers.upload': true,
  'transfers.uploadStreamed': true,
  'transfers.download': true,
  'transfers.pause': true,
  'transfers.resume': true,
  'transfers.cancel': true,
  'transfers.retry': true,
  'transfers.clear': true,
  'live.get': true,
  'dialog.chooseFolder': true,
  'dialog.chooseFiles': true,
};

const EVENTS: Record<EventName, true> = {
  device: true,
  peers: true,
  transfer: true,
  live: true,
  pairing: true,
  'upload-request': true,
};

/** What `window.ferry` is in the Electron window. */
export interface FerryBridge {
  request<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<Result<RequestResult<K>>>;
  /** Listen to one contract event; returns the function that stops listening. */
  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void;
  /** The full path of a File dropped into the page (Electron only). */
  pathForFile(file: File): string;
  platform: string;
}

const has = (table: object, name: unknown): boolean =>
  typeof name === 'string' && Object.prototype.hasOwnProperty.call(table, name);

const bridge: FerryBridge = {
  request<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<Result<RequestResult<K>>> {
    if (!has(REQUESTS, name)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'FERRY_ERR_BAD_ARGUMENT', message: `Unknown request ${String(name)}` },
      });
    }
    return ipcRenderer.invoke(`ferry:request:${name}`, arg) as Promise<Result<RequestResult<K>>>;
  },
  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void {
    if (!has(EVENTS, name)) throw new Error(`Unknown event ${String(name)}`);
    if (typeof listener !== 'function') throw new Error('A listener must be a function');
    const channel = `ferry:event:${name}`;
    const wrapped = (_event: unknown, payload: Events[E]): void => listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
  platform: process.platform,
};

contextBridge.exposeInMainWorld('ferry', bridge);

/** For test/unit/preload.test.ts: the names this file accepts, to compare with the contract's. */
export const PRELOAD_REQUEST_NAMES = Object.keys(REQUESTS);
export const PRELOAD_EVENT_NAMES = Object.keys(EVENTS);
