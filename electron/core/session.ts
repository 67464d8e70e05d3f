/**
 * A session: one peer, one control connection, and the data sockets that joined it. It routes
 * control messages and blocks to the transfers they belong to and, on the serving side, answers
 * requests (list, get, offer). Both ends use the same class; only the requests differ.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { FerryError, WIRE_CODES } from '../../shared/errors.js';
import { checkPeerPath } from '../../shared/path-guard.js';
import type { ConflictPolicy } from '../../shared/types.js';
import { fsError } from './fs-guard.js';
import { serveList } from './listing.js';
import { SocketPool } from './pool.js';
import type { BlockHeader } from './protocol/codec.js';
import type { Connection } from './protocol/connection.js';
import { MAX_SOCKETS_PER_SESSION } from './protocol/constants.js';
import type { Message } from './protocol/messages.js';
import { Receiver } from './receiver.js';
import { Sender } from './sender.js';
import type { TransferHandler, TransferHost } from './session-types.js';
import { Transfer } from './transfer.js';
import { walkShared } from './walk.js';

export interface PeerInfo {
  name: string;
  device: string;
  /** host:port as this side sees it. */
  address: string;
}

/** What a serving session may do: its shared folder and whether peers may write to it. */
export interface ShareOptions {
  realRoot: string;
  readOnly: boolean;
  maxSockets?: number;
}

export interface SessionEvents {
  /** A transfer the peer started (an upload to us, or a download from us). */
  transfer: [Transfer];
  close: [FerryError | undefined];
}

export class Session extends EventEmitter<SessionEvents> implements TransferHost {
  readonly id = randomBytes(8).toString('hex');
  readonly key = randomBytes(16).toString('hex');
  readonly pool = new SocketPool();
  private readonly handlers = new Map<number, TransferHandler>();
  /** Client side: replies to our requests, by request id. */
  readonly requests = new Map<number, (m: Message) => void>();
  private closed: FerryError | undefined;
  private isClosed = false;
  private listing: Promise<void> = Promise.resolve();

  constructor(
    readonly control: Connection,
    readonly peer: PeerInfo,
    private readonly share: ShareOptions | undefined,
  ) {
    super();
    this.attach(control);
  }

  get closedError(): FerryError | undefined {
    return this.closed;
  }

  /** Add a socket: the control connection, or a data socket that joined with the session key. */
  attach(conn: Connection): void {
    const max = this.share?.maxSockets ?? MAX_SOCKETS_PER_SESSION;
    if (this.pool.size >= max) {
      conn.fail(new FerryError('FERRY_ERR_TOO_MANY_CONNECTIONS', `At most ${max} sockets per session`));
      return;
    }
    this.pool.add(conn);
    conn.on('message', (m) => this.guard(conn, () => this.onMessage(m)));
    conn.on('block', (h, payload) => this.guard(conn, () => this.onBlock(h, payload, conn)));
    conn.once('close', (err) => {
      if (conn === this.control) this.close(err);
    });
  }

  /** A handler that throws has broken the protocol: that connection fails, with its reason. */
  private guard(conn: Connection, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      conn.fail(err instanceof FerryError ? err : new FerryError('FERRY_ERR_INTERNAL', String(err), { cause: err }));
    }
  }

  register(xfer: number, h: TransferHandler): void {
    this.handlers.set(xfer, h);
  }

  unregister(xfer: number): void {
    this.handlers.delete(xfer);
  }

  private onBlock(h: BlockHeader, payload: Buffer, conn: Connection): void {
    // A block for a transfer that just ended or was cancelled is dropped, not an error.
    this.handlers.get(h.transfer)?.onBlock(h, payload, conn);
  }

  private onMessage(m: Message): void {
    if ('req' in m && m.t !== 'list') {
      this.requests.get(m.req)?.(m);
      return;
    }
    if ('xfer' in m) {
      const h = this.handlers.get(m.xfer);
      if (h) {
        h.onMessage(m);
        return;
      }
      if (m.t === 'offer' && this.share) return this.acceptUpload(m);
      if (m.t === 'get' && this.share) return this.serveDownload(m.xfer, m.paths);
      return; // late messages for an ended transfer
    }
    if (m.t === 'list' && this.share) {
      // One listing at a time per session: a peer cannot pile up work by asking many at once.
      const realRoot = this.share.realRoot;
      this.listing = this.listing.then(() => serveList(this.control, realRoot, m.req, m.path));
      return;
    }
    throw new FerryError('FERRY_ERR_PROTOCOL', `Unexpected "${m.t}" message`);
  }

  private peerLabel(): string {
    return this.peer.address;
  }

  private acceptUpload(m: Extract<Message, { t: 'offer' }>): void {
    const share = this.share!;
    const transfer = new Transfer({
      direction: 'upload',
      peer: this.peerLabel(),
      peerName: this.peer.name,
      label: m.files[0]?.path ?? '(nothing)',
    });
    const refuse = (err: FerryError): void => {
      this.control.send({ t: 'cancel', xfer: m.xfer, code: WIRE_CODES[err.code], message: err.message });
      // Later parts of the same offer are dropped, not taken for new uploads.
      if (!m.last) {
        const sink: TransferHandler = {
          onMessage: (next) => {
            if (next.t !== 'offer' || next.last) this.unregister(m.xfer);
          },
          onBlock: () => undefined,
          abort: () => this.unregister(m.xfer),
        };
        this.register(m.xfer, sink);
      }
      this.emit('transfer', transfer);
      transfer.finish(err);
    };
    if (share.readOnly) {
      refuse(new FerryError('FERRY_ERR_READ_ONLY', 'This folder is shared read-only: it accepts no uploads'));
      return;
    }
    let to: string[];
    try {
      to = checkPeerPath(m.to ?? '', { allowRoot: true });
    } catch (err) {
      refuse(err as FerryError);
      return;
    }
    const conflict: ConflictPolicy = m.conflict ?? 'rename';
    const r = new Receiver(this, m.xfer, transfer, { base: share.realRoot, to, conflict });
    this.register(m.xfer, r);
    this.emit('transfer', transfer);
    r.onMessage(m);
  }

  private serveDownload(xfer: number, paths: string[]): void {
    const share = this.share!;
    const transfer = new Transfer({
      direction: 'download',
      peer: this.peerLabel(),
      peerName: this.peer.name,
      label: paths[0] || '(shared folder)',
    });
    this.emit('transfer', transfer);
    // Register a placeholder at once so that a cancel arriving during the walk finds it.
    let cancelled: FerryError | undefined;
    this.register(xfer, {
      onMessage: (m) => {
        if (m.t === 'cancel') cancelled = new FerryError('FERRY_ERR_CANCELLED', m.message);
      },
      onBlock: () => undefined,
      abort: (err) => (cancelled = err),
    });
    walkShared(share.realRoot, paths).then(
      ({ files, skipped }) => {
        transfer.leftOut.push(...skipped);
        if (cancelled) {
          this.unregister(xfer);
          transfer.finish(cancelled);
          return;
        }
        const s = new Sender(this, xfer, transfer, files);
        this.register(xfer, s);
        void s.run();
      },
      (err: unknown) => {
        const e = err instanceof FerryError ? err : fsError(err, 'reading the shared folder');
        this.unregister(xfer);
        this.control.send({ t: 'cancel', xfer, code: WIRE_CODES[e.code], message: e.message });
        transfer.finish(e);
      },
    );
  }

  /** End the session: every transfer stops (receivers keep their partial files for a resume). */
  close(err?: FerryError): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closed = err ?? new FerryError('FERRY_ERR_CONNECTION_LOST', 'The session was closed');
    this.pool.close(this.closed);
    for (const h of [...this.handlers.values()]) h.abort(this.closed);
    this.handlers.clear();
    for (const r of [...this.requests.values()]) {
      r({ t: 'fail', req: 0, code: WIRE_CODES[this.closed.code], message: this.closed.message });
    }
    this.requests.clear();
    for (const c of this.pool.connections()) c.destroy();
    this.control.destroy();
    this.emit('close', err);
  }
}
