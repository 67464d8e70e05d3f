/**
 * The bridge of the browser shell: the contract over one WebSocket (shared/ws-protocol.ts).
 * Requests are matched to responses by id; events fan out to listeners; the shell's reads of
 * dropped files are answered from the File objects the page registered. When the socket drops
 * it reconnects with backoff and says so through onConnection, for the "disconnected" banner.
 * No globals here: bridge.ts hands in the URL, the socket constructor and the timer.
 */
import type { EventName, Events, RequestArg, RequestName, RequestResult, Result } from '../../../shared/contract.js';
import { FerryError } from '../../../shared/errors.js';
import { READ_ID_BYTES, type FromPage, type ToPage, type WsRead } from '../../../shared/ws-protocol.js';
import type { Bridge, ConnectionState } from './bridge.js';

export interface WebBridgeOptions {
  url: string;
  createSocket: (url: string) => WebSocket;
  setTimer: (fn: () => void, ms: number) => unknown;
  /** First reconnect delay, doubled after each failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

interface Pending {
  resolve: (result: Result<unknown>) => void;
  reject: (err: Error) => void;
}

type Listener = (payload: never) => void;

export class WebBridge implements Bridge {
  readonly kind = 'web' as const;
  #opts: WebBridgeOptions;
  #socket: WebSocket | undefined;
  #state: ConnectionState = 'connecting';
  #retryMs: number;
  #closed = false;
  #nextId = 1;
  #nextHandle = 1;
  readonly #pending = new Map<number, Pending>();
  /** Requests made before the first connection opened. */
  #outbox: string[] = [];
  readonly #listeners = new Map<EventName, Set<Listener>>();
  readonly #connectionListeners = new Set<(state: ConnectionState) => void>();
  readonly #files = new Map<number, File>();

  constructor(opts: WebBridgeOptions) {
    this.#opts = opts;
    this.#retryMs = opts.retryMs ?? 250;
    this.#connect();
  }

  request<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>> {
    return new Promise<RequestResult<K>>((resolve, reject) => {
      if (this.#state === 'closed' || this.#closed) {
        reject(
          new FerryError(
            'FERRY_ERR_CONNECTION_LOST',
            'Ferry is not connected right now; try again when the banner is gone',
          ),
        );
        return;
      }
      const id = this.#nextId++;
      this.#pending.set(id, {
        resolve: (result) => {
          if (result.ok) resolve(result.value as RequestResult<K>);
          else reject(new FerryError(result.error.code, result.error.message));
        },
        reject,
      });
      const text = JSON.stringify({ type: 'request', id, name, arg } satisfies FromPage);
      if (this.#state === 'open' && this.#socket) this.#socket.send(text);
      else this.#outbox.push(text);
    });
  }

  on<E extends EventName>(name: E, cb: (payload: Events[E]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(cb);
    return () => set.delete(cb);
  }

  registerFile(file: File): number {
    const handle = this.#nextHandle++;
    this.#files.set(handle, file);
    return handle;
  }

  onConnection(cb: (state: ConnectionState) => void): () => void {
    this.#connectionListeners.add(cb);
    cb(this.#state);
    return () => this.#connectionListeners.delete(cb);
  }

  /** Close for good (tests, page unload): no reconnect. */
  close(): void {
    this.#closed = true;
    this.#socket?.close();
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const cb of this.#connectionListeners) cb(state);
  }

  #connect(): void {
    const ws = this.#opts.createSocket(this.#opts.url);
    ws.binaryType = 'arraybuffer';
    this.#socket = ws;
    ws.onopen = () => {
      this.#retryMs = this.#opts.retryMs ?? 250;
      this.#setState('open');
      for (const text of this.#outbox.splice(0)) ws.send(text);
    };
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data === 'string') this.#receive(ws, e.data);
    };
    // A failed connection fires error, then close: close does the work.
    ws.onerror = () => undefined;
    ws.onclose = () => {
      if (this.#socket !== ws) return;
      this.#socket = undefined;
      // Nobody knows whether those requests ran: say so rather than hang.
      const lost = new FerryError('FERRY_ERR_CONNECTION_LOST', 'The connection to Ferry was lost before it answered');
      for (const p of this.#pending.values()) p.reject(lost);
      this.#pending.clear();
      this.#outbox = [];
      if (this.#closed) return;
      this.#setState('closed');
      const delay = this.#retryMs;
      this.#retryMs = Math.min(delay * 2, this.#opts.maxRetryMs ?? 5000);
      this.#opts.setTimer(() => {
        if (!this.#closed) this.#connect();
      }, delay);
    };
  }

  #receive(ws: WebSocket, text: string): void {
    let msg: ToPage;
    try {
      msg = JSON.parse(text) as ToPage;
    } catch {
      return;
    }
    if (msg.type === 'response') {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      p?.resolve(msg.result);
    } else if (msg.type === 'event') {
      for (const cb of this.#listeners.get(msg.name) ?? []) (cb as (p: unknown) => void)(msg.payload);
    } else if (msg.type === 'read') {
      void this.#read(ws, msg);
    }
  }

  async #read(ws: WebSocket, m: WsRead): Promise<void> {
    const file = this.#files.get(m.handle);
    const fail = (message: string) => {
      if (ws.readyState === ws.OPEN)
        ws.send(JSON.stringify({ type: 'read-error', id: m.id, message } satisfies FromPage));
    };
    if (!file) return fail('That file is no longer available to this page; drop it again');
    let bytes: ArrayBuffer;
    try {
      bytes = await file.slice(m.position, m.position + m.length).arrayBuffer();
    } catch (err) {
      return fail(
        `Could not read "${file.name}" (was it moved or changed?): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (ws.readyState !== ws.OPEN) return;
    const out = new Uint8Array(READ_ID_BYTES + bytes.byteLength);
    new DataView(out.buffer).setUint32(0, m.id, false);
    out.set(new Uint8Array(bytes), READ_ID_BYTES);
    ws.send(out);
  }
}
