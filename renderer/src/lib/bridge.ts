/**
 * The renderer's one way to the engine, and the only module that reads window.* for it. In
 * Electron it wraps the preload's `window.ferry`; in the browser shell it speaks the contract
 * over a WebSocket (web-bridge.ts). Either way a request answers its value or throws a
 * FerryError carrying the engine's code and message.
 */
import type { EventName, Events, RequestArg, RequestName, RequestResult } from '../../../shared/contract.js';
import { WS_PATH } from '../../../shared/ws-protocol.js';
import type { FerryPreloadApi } from './electron-api.js';
import { unwrap } from './result.js';
import { WebBridge } from './web-bridge.js';

/** 'connecting' until the first open, 'open', then 'closed' while reconnecting. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Bridge {
  kind: 'electron' | 'web';
  request<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>>;
  on<E extends EventName>(name: E, cb: (payload: Events[E]) => void): () => void;
  /** Electron only: the absolute path of a dropped or picked File. */
  pathForFile?(file: File): string;
  /** Web only: keep a File the engine will read on demand; returns its handle. */
  registerFile?(file: File): number;
  /** Web only: the socket's state, for the "disconnected" banner; calls back at once. */
  onConnection?(cb: (state: ConnectionState) => void): () => void;
}

export function electronBridge(api: FerryPreloadApi): Bridge {
  return {
    kind: 'electron',
    request: async (name, arg) => unwrap(await api.request(name, arg)),
    on: (name, cb) => api.on(name, cb),
    pathForFile: (file) => api.pathForFile(file),
  };
}

/** The shell's socket URL for this page: same host, the token from the page's own URL. */
export function webSocketUrl(loc: { protocol: string; host: string; search: string }): string {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${loc.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}

/** The bridge for the shell this page runs in. */
export function createBridge(): Bridge {
  if (window.ferry) return electronBridge(window.ferry);
  return new WebBridge({
    url: webSocketUrl(window.location),
    createSocket: (url) => new WebSocket(url),
    setTimer: (fn, ms) => window.setTimeout(fn, ms),
  });
}
