/**
 * A raw protocol peer for hostile-input tests: a plain TCP socket plus Ferry's own codec, so a
 * test can send arbitrary bytes, a correct preamble and hello, or hand-made messages (an offer
 * with hostile paths, a block with the wrong digest), and then look at every frame the server
 * sent back and at whether and when it closed the connection.
 *
 * Nothing here validates what the test sends: that is the point.
 */
import * as net from 'node:net';
import {
  type BlockHeader,
  decodeControl,
  encodeControl,
  encodeDataHead,
  encodePreamble,
  FrameDecoder,
} from '../../electron/core/protocol/codec.js';
import {
  FRAME_CONTROL,
  FRAME_DATA,
  FRAME_HEADER_SIZE,
  PROTOCOL_VERSION,
} from '../../electron/core/protocol/constants.js';

/** A decoded control message from the server, unvalidated. */
export type RawMessage = { t: string } & Record<string, unknown>;

export interface ReceivedBlock {
  header: BlockHeader;
  length: number;
  /** Only kept when `keepPayloads` is set. */
  payload?: Buffer;
}

export interface RawHelloOptions {
  name?: string;
  device?: string;
  caps?: string[];
  join?: { session: string; key: string };
}

interface Waiter {
  check: () => boolean;
}

const DEFAULT_WAIT_MS = 5000;

export class RawPeer {
  /** Protocol version from the server's preamble, once it arrived. */
  serverVersion: number | undefined;
  readonly messages: RawMessage[] = [];
  readonly blocks: ReceivedBlock[] = [];
  keepPayloads = false;
  bytesIn = 0;
  bytesOut = 0;
  /** What our own decoder refused in the server's stream (should stay undefined). */
  decodeError: unknown;
  /** A socket error on our side (EPIPE, ECONNRESET after the server closed), kept for inspection. */
  socketError: NodeJS.ErrnoException | undefined;
  /** True once the server ended its side (FIN). */
  ended = false;
  readonly openedAt = performance.now();
  /** performance.now() when the socket closed. */
  closedAt: number | undefined;
  private readonly decoder: FrameDecoder;
  private readonly waiters = new Set<Waiter>();

  private constructor(readonly socket: net.Socket) {
    this.decoder = new FrameDecoder(
      (frame) => {
        if (frame.type === FRAME_CONTROL) {
          this.messages.push(decodeControl(frame.body));
        } else {
          this.blocks.push({
            header: { ...frame.header, digest: Buffer.from(frame.header.digest) },
            length: frame.payload.length,
            ...(this.keepPayloads ? { payload: Buffer.from(frame.payload) } : {}),
          });
        }
        this.wake();
      },
      (version) => {
        this.serverVersion = version;
        this.wake();
      },
    );
    socket.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      try {
        this.decoder.push(chunk);
      } catch (err) {
        this.decodeError = err;
        this.decoder.stop();
      }
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketError = err;
    });
    socket.on('close', () => {
      this.closedAt = performance.now();
      this.wake();
    });
  }

  /** Open a TCP connection to the server; sends nothing. */
  static connect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Milliseconds from connecting to the close, once closed. */
  get lifetimeMs(): number | undefined {
    return this.closedAt === undefined ? undefined : this.closedAt - this.openedAt;
  }

  /** Write raw bytes. Resolves once handed to the kernel, or at once if the socket is gone. */
  write(bytes: Buffer | Uint8Array | string): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    this.bytesOut += b.length;
    return new Promise((resolve) => this.socket.write(b, () => resolve()));
  }

  sendPreamble(version = PROTOCOL_VERSION): Promise<void> {
    return this.write(encodePreamble(version));
  }

  /** A control frame with a JSON body made from `m` (anything: unknown types, missing fields). */
  sendControl(m: object): Promise<void> {
    return this.write(encodeControl(m));
  }

  /** A control frame around arbitrary body bytes (invalid UTF-8, not JSON, ...). */
  sendControlBody(body: Buffer): Promise<void> {
    return this.write(Buffer.concat([frameHeader(FRAME_CONTROL, body.length), body]));
  }

  /** Just a frame header, announcing `length` body bytes that may never come. */
  sendFrameHeader(type: number, length: number): Promise<void> {
    return this.write(frameHeader(type, length));
  }

  /** A data frame: block header (with whatever digest the test chose) and payload. */
  sendBlock(
    h: { transfer: number; file: number; block: number; flags?: number; digest: Buffer },
    payload: Buffer,
  ): Promise<void> {
    const head = encodeDataHead({ flags: 0, ...h }, payload.length);
    return this.write(Buffer.concat([head, payload]));
  }

  /** Preamble and a correct hello; resolves with the server's hello (or rejects if it never comes). */
  async hello(opts: RawHelloOptions = {}): Promise<RawMessage> {
    await this.sendPreamble();
    await this.sendControl({
      t: 'hello',
      name: opts.name ?? 'raw-peer',
      device: opts.device ?? 'raw0000',
      caps: opts.caps ?? [],
      ...(opts.join ? { join: opts.join } : {}),
    });
    return this.waitFor((m) => m.t === 'hello', 'the server hello');
  }

  /**
   * The first message received so far (or later) that matches. Messages are not consumed: give
   * predicates that name what you want (the xfer, the req).
   */
  waitFor(
    pred: (m: RawMessage) => boolean,
    what = 'a matching message',
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<RawMessage> {
    return this.until(
      () => this.messages.find(pred),
      () => this.isClosed,
      `${what} (server closed the connection first)`,
      what,
      timeoutMs,
    );
  }

  /** Resolves with the lifetime in ms once the socket is closed; rejects after `timeoutMs`. */
  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    return this.until(
      () => (this.isClosed ? this.lifetimeMs! : undefined),
      () => false,
      '',
      'the server to close the connection',
      timeoutMs,
    );
  }

  /** Wait for any condition on this peer's state. */
  waitUntil<T>(get: () => T | undefined, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    return this.until(get, () => this.isClosed, `${what} (server closed the connection first)`, what, timeoutMs);
  }

  private until<T>(
    get: () => T | undefined,
    dead: () => boolean,
    deadWhat: string,
    what: string,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: { timer?: NodeJS.Timeout } = {};
      const waiter: Waiter = {
        check: () => {
          const v = get();
          if (v !== undefined) {
            finish();
            resolve(v);
            return true;
          }
          if (dead()) {
            finish();
            reject(new Error(`Waited for ${deadWhat}; received: ${this.describe()}`));
            return true;
          }
          return false;
        },
      };
      const finish = (): void => {
        if (pending.timer) clearTimeout(pending.timer);
        this.waiters.delete(waiter);
      };
      if (waiter.check()) return;
      this.waiters.add(waiter);
      pending.timer = setTimeout(() => {
        finish();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.describe()}`));
      }, timeoutMs);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w.check();
  }

  /** Wire codes of every `error` frame the server sent. */
  errorCodes(): number[] {
    return this.messages.filter((m) => m.t === 'error').map((m) => m.code as number);
  }

  /** A short account of what arrived, for failure messages. */
  describe(): string {
    const types = this.messages.map((m) => (m.t === 'error' ? `error(${String(m.code)})` : m.t));
    return `preamble=${this.serverVersion ?? 'none'} messages=[${types.join(', ')}] blocks=${this.blocks.length} closed=${this.isClosed}`;
  }

  /** Stop reading: the kernel buffers fill and the server's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Close our side politely (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Drop the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

function frameHeader(type: number, length: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_SIZE);
  h.writeUInt32BE(length >>> 0, 0);
  h.writeUInt8(type, 4);
  return h;
}

export { FRAME_CONTROL, FRAME_DATA };
