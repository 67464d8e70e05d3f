/**
 * One Ferry connection over any duplex byte stream (a TCP socket, later a TLS socket, or an
 * in-memory pair in a test: Syncthing's NewConnection(reader, writer, closer)). It owns the
 * preamble, framing, timeouts and keepalive, and fails exactly once through destroy(err).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { codeFromWire, FerryError, WIRE_CODES } from '../../../shared/errors.js';
import {
  type BlockHeader,
  decodeControl,
  encodeControl,
  encodeDataHead,
  encodePreamble,
  FrameDecoder,
} from './codec.js';
import { BufferPool } from '../buffer-pool.js';
import {
  BLOCK_HEADER_SIZE,
  FRAME_CONTROL,
  HANDSHAKE_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  KEEPALIVE_MS,
  MIN_BLOCK_SIZE,
  PROTOCOL_VERSION,
} from './constants.js';
import { type Message, validateMessage } from './messages.js';

export interface ConnectionOptions {
  handshakeTimeoutMs?: number;
  idleTimeoutMs?: number;
  keepaliveMs?: number;
  maxControlSize?: number;
  maxDataFrameSize?: number;
}

export interface ConnectionEvents {
  message: [Message];
  block: [BlockHeader, Buffer];
  drain: [];
  close: [FerryError | undefined];
}

let nextConnectionId = 1;

/**
 * Frames of a 1 MiB block (plus its header) arrive in many socket chunks and are copied into a
 * buffer from this pool; the receiver gives it back once the block is on disk.
 */
export const RECEIVE_POOL = new BufferPool(MIN_BLOCK_SIZE + BLOCK_HEADER_SIZE, 48);

/** Errors the peer reported: closing over them does not send them back. */
const FROM_PEER = new WeakSet<FerryError>();
function peerError(code: number, message: string): FerryError {
  const e = new FerryError(codeFromWire(code), message);
  FROM_PEER.add(e);
  return e;
}

/** Output a connection may have queued before it stops reading the peer's requests. */
const MAX_UNSENT = 32 * 1024 * 1024;
const UNSENT = Symbol('unsent output');

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly id = nextConnectionId++;
  private readonly decoder: FrameDecoder;
  private closed = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly idleMs: number;
  private readonly keepaliveMs: number;
  private lastWrite = Date.now();
  private pingId = 0;
  private resolveGone!: () => void;
  /** Resolves when the stream has closed: whatever was written before destroy() went out. */
  readonly gone = new Promise<void>((resolve) => (this.resolveGone = resolve));
  private readonly pauseReasons = new Set<unknown>();
  private readonly pings = new Map<number, () => void>();
  /** True once the peer's preamble and hello have arrived. */
  private established = false;
  bytesIn = 0;
  bytesOut = 0;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    readonly stream: Duplex,
    opts: ConnectionOptions = {},
  ) {
    super();
    const s = stream as Partial<{ localAddress: string; localPort: number; remoteAddress: string; remotePort: number }>;
    this.localAddress = s.localAddress ?? 'memory';
    this.localPort = s.localPort ?? 0;
    this.remoteAddress = s.remoteAddress ?? 'memory';
    this.remotePort = s.remotePort ?? 0;
    this.idleMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.keepaliveMs = opts.keepaliveMs ?? KEEPALIVE_MS;
    this.decoder = new FrameDecoder(
      (frame) => {
        if (frame.type === FRAME_CONTROL) {
          const m = validateMessage(decodeControl(frame.body));
          if (!this.established) {
            if (m.t === 'error') throw peerError(m.code, m.message);
            if (m.t !== 'hello') throw new FerryError('FERRY_ERR_PROTOCOL', 'The peer did not start with a hello');
            this.established = true;
            this.clearHandshakeTimer();
          } else if (m.t === 'ping') {
            this.send({ t: 'pong', id: m.id });
            return;
          } else if (m.t === 'pong') {
            this.pings.get(m.id)?.();
            return;
          } else if (m.t === 'error') {
            throw peerError(m.code, m.message);
          }
          this.emit('message', m);
        } else {
          if (!this.established) throw new FerryError('FERRY_ERR_PROTOCOL', 'Data before hello');
          this.emit('block', frame.header, frame.payload);
        }
      },
      (version) => {
        if (version !== PROTOCOL_VERSION) {
          throw new FerryError(
            'FERRY_ERR_VERSION',
            `The peer speaks Ferry protocol version ${version}; this Ferry speaks version ${PROTOCOL_VERSION}. Update the older one.`,
          );
        }
      },
      { ...opts, alloc: (size) => RECEIVE_POOL.take(size) },
    );
    stream.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.touch();
      try {
        this.decoder.push(chunk);
      } catch (err) {
        this.fail(err instanceof FerryError ? err : new FerryError('FERRY_ERR_INTERNAL', String(err), { cause: err }));
      }
    });
    stream.on('drain', () => {
      this.resumeFor(UNSENT);
      this.emit('drain');
    });
    stream.on('end', () => {
      const truncated = this.decoder.truncated;
      this.destroy(
        new FerryError(
          'FERRY_ERR_CONNECTION_LOST',
          truncated ? 'The peer closed the connection in the middle of a frame' : 'The peer closed the connection',
        ),
      );
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.destroy(
        new FerryError('FERRY_ERR_CONNECTION_LOST', `Connection lost: ${err.code ?? err.message}`, { cause: err }),
      );
    });
    stream.on('close', () => {
      this.resolveGone();
      this.destroy(new FerryError('FERRY_ERR_CONNECTION_LOST', 'Connection closed'));
    });
    const handshakeMs = opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.handshakeTimer = setTimeout(
      () => this.fail(new FerryError('FERRY_ERR_TIMEOUT', `No hello within ${handshakeMs} ms`)),
      handshakeMs,
    );
    this.touch();
    if (this.keepaliveMs > 0) {
      this.keepaliveTimer = setInterval(() => {
        if (Date.now() - this.lastWrite >= this.keepaliveMs) this.send({ t: 'ping', id: ++this.pingId });
      }, this.keepaliveMs);
      this.keepaliveTimer.unref();
    }
    this.write(encodePreamble());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True when the stream's write buffer is below its high-water mark. */
  get writable(): boolean {
    return !this.closed && !this.stream.writableNeedDrain;
  }

  get writeBuffered(): number {
    return this.stream.writableLength;
  }

  private touch(): void {
    if (this.idleMs <= 0) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(
      () => this.fail(new FerryError('FERRY_ERR_TIMEOUT', `The peer was silent for ${this.idleMs} ms`)),
      this.idleMs,
    );
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private write(b: Buffer): boolean {
    if (this.closed) return false;
    this.bytesOut += b.length;
    this.lastWrite = Date.now();
    const ok = this.stream.write(b);
    // A peer that sends requests but does not read the answers stops being read: its requests
    // cannot make our output buffer grow without bound (list and ping amplification).
    if (this.stream.writableLength > MAX_UNSENT && !this.pauseReasons.has(UNSENT)) this.pauseFor(UNSENT);
    return ok;
  }

  /** Send a control message; returns false when the caller should wait for 'drain'. */
  send(m: Message): boolean {
    return this.write(encodeControl(m));
  }

  /** Send one block: header and payload as two writes, so the payload is never copied. */
  sendBlock(h: BlockHeader, payload: Buffer, frame?: Buffer): boolean {
    if (this.closed) return false;
    if (frame) {
      // The payload sits right after DATA_HEAD bytes of room in `frame`: one buffer, one write.
      // Over TLS this matters: node copies a write of several buffers into one before encrypting.
      encodeDataHead(h, payload.length, frame);
      return this.write(frame);
    }
    this.stream.cork();
    this.write(encodeDataHead(h, payload.length));
    const ok = this.write(payload);
    this.stream.uncork();
    return ok;
  }

  /** Round-trip time of a ping, in milliseconds. */
  ping(): Promise<number> {
    const id = ++this.pingId;
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new FerryError('FERRY_ERR_CONNECTION_LOST', 'Connection closed'));
      const onClose = (err?: FerryError): void => {
        this.pings.delete(id);
        reject(err ?? new FerryError('FERRY_ERR_CONNECTION_LOST', 'Connection closed'));
      };
      this.once('close', onClose);
      this.pings.set(id, () => {
        this.pings.delete(id);
        this.off('close', onClose);
        resolve(performance.now() - t0);
      });
      this.send({ t: 'ping', id });
    });
  }

  /**
   * Stop reading for a reason (a receiver whose disk is behind, or our own unsent output), and
   * read again once every reason is gone: two receivers on one session never undo each other.
   */
  pauseFor(reason: unknown): void {
    this.pauseReasons.add(reason);
    this.stream.pause();
  }

  resumeFor(reason: unknown): void {
    if (!this.pauseReasons.delete(reason) || this.pauseReasons.size > 0 || this.closed) return;
    this.stream.resume();
  }

  /** Tell the peer why (where the connection still allows it), then close. */
  fail(err: FerryError): void {
    if (this.closed) return;
    if (this.stream.writable && !FROM_PEER.has(err)) {
      try {
        this.stream.write(encodeControl({ t: 'error', code: WIRE_CODES[err.code], message: err.message }));
      } catch {
        // nothing more to say to a stream that cannot take it
      }
    }
    this.destroy(err);
  }

  /** The one exit path: closes the stream and emits 'close' once. */
  destroy(err?: FerryError): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.stop();
    this.clearHandshakeTimer();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    // end() lets queued frames (a cancel, an error) reach the peer before the socket goes; a peer
    // that does not read them gets a grace period, then the socket is destroyed regardless.
    const t = setTimeout(() => this.stream.destroy(), 1000);
    t.unref();
    this.stream.end(() => {
      clearTimeout(t);
      this.stream.destroy();
    });
    this.emit('close', err);
  }
}
