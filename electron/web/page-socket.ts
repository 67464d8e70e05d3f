/**
 * One page's WebSocket in the browser shell, speaking shared/ws-protocol.ts: contract requests go
 * to dispatch() (the same table the Electron IPC handlers use), the app's events go out to the
 * page, and the engine's reads of files dropped into THIS page go to it and come back as binary
 * messages. The page is untrusted: a message that is not JSON, or not one of ours, closes the
 * socket; arguments are checked by dispatch().
 */
import type { WebSocket } from 'ws';
import type { EventName, Events } from '../../shared/contract.js';
import { EVENT_NAMES } from '../../shared/contract.js';
import { FerryError } from '../../shared/errors.js';
import type { FromPage, ToPage } from '../../shared/ws-protocol.js';
import { READ_ID_BYTES } from '../../shared/ws-protocol.js';
import type { FerryApp, StreamReader } from '../core/app/app-service.js';
import { dispatch } from '../core/app/dispatch.js';

export interface PageSocketOptions {
  /**
   * How long the page may take to answer one read. A read is at most one block (16 MiB) from a
   * local File: seconds at worst, so 30 s means the tab is frozen or gone.
   */
  readTimeoutMs?: number;
}

const DEFAULT_READ_TIMEOUT_MS = 30_000;
/**
 * A page this far behind on its socket gets no more 'live' snapshots until it catches up: each
 * one replaces the last, so dropping some loses nothing. Other events are never dropped.
 */
const LIVE_BACKLOG_BYTES = 4 * 1024 * 1024;

/** WebSocket close codes (RFC 6455 section 7.4.1). */
const CLOSE_INVALID_DATA = 1007;
const CLOSE_POLICY = 1008;

interface PendingRead {
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  length: number;
}

/** Serve one connected page until its socket closes. */
export function attachPage(ws: WebSocket, app: FerryApp, opts: PageSocketOptions = {}): void {
  const readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const reads = new Map<number, PendingRead>();
  let nextRead = 1;
  let closed = false;

  const send = (msg: ToPage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };

  const gone = (): FerryError =>
    new FerryError(
      'FERRY_ERR_IO',
      'The browser tab holding the dropped files was closed or reloaded: drop the files again',
    );

  const reader: StreamReader = (handle, position, length) =>
    new Promise<Uint8Array>((resolve, reject) => {
      if (closed) {
        reject(gone());
        return;
      }
      const id = nextRead;
      nextRead = nextRead >= 0xffff_ffff ? 1 : nextRead + 1;
      const timer = setTimeout(() => {
        reads.delete(id);
        reject(
          new FerryError(
            'FERRY_ERR_TIMEOUT',
            `The browser tab did not hand over the dropped file's bytes within ${readTimeoutMs / 1000} s`,
          ),
        );
      }, readTimeoutMs);
      reads.set(id, { resolve, reject, timer, length });
      send({ type: 'read', id, handle, position, length });
    });

  const settle = (id: number): PendingRead | undefined => {
    const r = reads.get(id);
    if (!r) return undefined; // answered after its timeout: nobody waits for it any more
    reads.delete(id);
    clearTimeout(r.timer);
    return r;
  };

  const onBinary = (data: Buffer): void => {
    if (data.length < READ_ID_BYTES) {
      ws.close(CLOSE_INVALID_DATA, 'binary message too short');
      return;
    }
    const r = settle(data.readUInt32BE(0));
    if (!r) return;
    const bytes = data.subarray(READ_ID_BYTES);
    if (bytes.length > r.length)
      r.reject(new FerryError('FERRY_ERR_IO', 'The browser tab sent more bytes than were asked for'));
    else r.resolve(bytes);
  };

  const onText = (text: string): void => {
    let msg: FromPage;
    try {
      msg = JSON.parse(text) as FromPage;
    } catch {
      ws.close(CLOSE_INVALID_DATA, 'not JSON');
      return;
    }
    if (typeof msg !== 'object' || msg === null || !Number.isSafeInteger(msg.id)) {
      ws.close(CLOSE_POLICY, 'not a message of this protocol');
      return;
    }
    if (msg.type === 'request' && typeof msg.name === 'string') {
      const id = msg.id;
      void dispatch(app, msg.name, msg.arg ?? null, { reader }).then((result) =>
        send({ type: 'response', id, result }),
      );
    } else if (msg.type === 'read-error') {
      const why = typeof msg.message === 'string' ? msg.message.slice(0, 300) : 'unknown reason';
      settle(msg.id)?.reject(new FerryError('FERRY_ERR_IO', `The browser could not read a dropped file: ${why}`));
    } else {
      ws.close(CLOSE_POLICY, 'not a message of this protocol');
    }
  };

  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) onBinary(buf);
    else onText(buf.toString('utf8'));
  });

  // Every connected page sees every change, from this page or any other.
  const unsubscribe = EVENT_NAMES.map((name) => forward(app, name, ws, send));

  ws.on('close', () => {
    closed = true;
    for (const off of unsubscribe) off();
    for (const id of [...reads.keys()]) settle(id)?.reject(gone());
  });
  // 'close' follows every 'error'; without a listener an error would throw.
  ws.on('error', () => undefined);
}

function forward<E extends EventName>(app: FerryApp, name: E, ws: WebSocket, send: (msg: ToPage) => void): () => void {
  const listener = (payload: Events[E]): void => {
    if (name === 'live' && ws.bufferedAmount > LIVE_BACKLOG_BYTES) return;
    send({ type: 'event', name, payload });
  };
  // The typed EventEmitter cannot see that `name` and `listener` agree for a generic E.
  const emitter = app as unknown as { on(n: E, l: typeof listener): void; off(n: E, l: typeof listener): void };
  emitter.on(name, listener);
  return () => emitter.off(name, listener);
}
