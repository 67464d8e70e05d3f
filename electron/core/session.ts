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
import { PairingInitiator, PairingResponder } from './pairing.js';
import { walkShared } from './walk.js';

export interface PeerInfo {
  name: string;
  device: string;
  /** host:port as this side sees it. */
  address: string;
  /** SHA-256 of the certificate the peer presented (TLS sessions only). */
  fingerprint?: Buffer;
}

/** What a trusted peer may do (a trusted device's permissions). */
export interface PeerPermissions {
  browse: boolean;
  send: boolean;
  autoAccept: boolean;
}

/** An upload from a peer that may not send without asking: the shell shows it and decides. */
export interface UploadRequest {
  peer: PeerInfo;
  /** Paths of the files offered (as the sender named them) and their total size. */
  files: string[];
  totalBytes: number;
}

/**
 * Who may do what, asked on every request so that revoking trust takes effect at once. Absent
 * (plain engine tests), everyone may do everything.
 */
export interface AccessPolicy {
  /** The peer's permissions now, or undefined when it is not trusted. */
  permissions(peer: PeerInfo): PeerPermissions | undefined;
  /** Ask the person whether to take an upload; resolves false when declined or unanswered. */
  askUpload(req: UploadRequest): Promise<boolean>;
  /** A peer asks to pair; the responder runs the exchange, the shell shows the code and decides. */
  pairing(peer: PeerInfo, responder: PairingResponder): void;
  /** This device's certificate fingerprint, for pairing. */
  localFingerprint: Buffer;
}

/** What a serving session may do: its shared folder and whether peers may write to it. */
export interface ShareOptions {
  realRoot: string;
  readOnly: boolean;
  maxSockets?: number;
  access?: AccessPolicy;
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
  /** The pairing in progress on this session, either side. */
  pairing: PairingInitiator | PairingResponder | undefined;

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
    if (m.t.startsWith('pair-')) return this.onPairMessage(m);
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
      if (m.t === 'offer' && this.share) {
        const denied = this.denied('send');
        if (denied) return this.refuseTransfer(m.xfer, denied, !m.last);
        return this.acceptUpload(m);
      }
      if (m.t === 'get' && this.share) {
        const denied = this.denied('browse');
        if (denied) return this.refuseTransfer(m.xfer, denied, false);
        return this.serveDownload(m.xfer, m.paths);
      }
      return; // late messages for an ended transfer
    }
    if (m.t === 'list' && this.share) {
      const denied = this.denied('browse');
      if (denied) {
        this.control.send({ t: 'fail', req: m.req, code: WIRE_CODES[denied.code], message: denied.message });
        return;
      }
      // One listing at a time per session: a peer cannot pile up work by asking many at once.
      const realRoot = this.share.realRoot;
      this.listing = this.listing.then(() => serveList(this.control, realRoot, m.req, m.path));
      return;
    }
    throw new FerryError('FERRY_ERR_PROTOCOL', `Unexpected "${m.t}" message`);
  }

  /** Why this peer may not do `what` now, or undefined when it may. */
  private denied(what: 'browse' | 'send'): FerryError | undefined {
    const access = this.share?.access;
    if (!access) return undefined;
    const p = access.permissions(this.peer);
    const who = `${this.peer.name} (${this.peer.device})`;
    if (!p) {
      return new FerryError(
        'FERRY_ERR_NOT_TRUSTED',
        `This device has not been paired with ${who}: pair the two devices first`,
      );
    }
    if (!p[what]) {
      return new FerryError(
        'FERRY_ERR_NOT_TRUSTED',
        what === 'browse'
          ? `${who} may not browse or download from this device`
          : `${who} may not send files to this device`,
      );
    }
    return undefined;
  }

  /** Answer a transfer we will not run, and drop the rest of its offer parts. */
  private refuseTransfer(xfer: number, err: FerryError, moreParts: boolean): void {
    this.control.send({ t: 'cancel', xfer, code: WIRE_CODES[err.code], message: err.message });
    if (!moreParts) return;
    this.register(xfer, {
      onMessage: (next) => {
        if (next.t !== 'offer' || next.last) this.unregister(xfer);
      },
      onBlock: () => undefined,
      abort: () => this.unregister(xfer),
    });
  }

  private onPairMessage(m: Message): void {
    const access = this.share?.access;
    if (
      !this.pairing ||
      this.pairing.state === 'accepted' ||
      this.pairing.state === 'declined' ||
      this.pairing.state === 'failed'
    ) {
      // Only a server with a pairing policy takes a new pairing, and only one at a time per session.
      if (m.t !== 'pair-commit' || !access || !this.peer.fingerprint) {
        throw new FerryError('FERRY_ERR_PROTOCOL', `Unexpected "${m.t}": no pairing in progress`);
      }
      const responder = new PairingResponder({
        localFingerprint: access.localFingerprint,
        peerFingerprint: this.peer.fingerprint,
        send: (out) => this.control.send(out),
      });
      this.pairing = responder;
      // The shell first (it may decline at once), then the commit: no code for a pairing nobody takes.
      access.pairing(this.peer, responder);
      if (!responder.ended) responder.onMessage(m);
      else this.control.send({ t: 'pair-result', accepted: false });
      return;
    }
    this.pairing.onMessage(m);
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
    const start = (parts: Extract<Message, { t: 'offer' }>[]): void => {
      const r = new Receiver(this, m.xfer, transfer, { base: share.realRoot, to, conflict });
      this.register(m.xfer, r);
      this.emit('transfer', transfer);
      for (const part of parts) r.onMessage(part);
    };
    const access = share.access;
    if (!access || access.permissions(this.peer)?.autoAccept) {
      start([m]);
      return;
    }
    // Ask the person first, with every file name and the total size: hold the parts until the
    // last one, then wait for the answer (a cancel from the sender meanwhile ends it).
    const parts = [m];
    let cancelled = false;
    const ask = (): void => {
      const files = parts.flatMap((p) => p.files.filter((f) => f.kind === 'file'));
      const req: UploadRequest = {
        peer: this.peer,
        files: files.map((f) => f.path),
        totalBytes: files.reduce((n, f) => n + f.size, 0),
      };
      access.askUpload(req).then(
        (yes) => {
          this.unregister(m.xfer);
          if (cancelled || this.isClosed) return;
          if (yes) start(parts);
          else
            refuse(
              new FerryError(
                'FERRY_ERR_DECLINED',
                'The upload was declined on the receiving device, or nobody answered there in time',
              ),
            );
        },
        () => undefined,
      );
    };
    this.register(m.xfer, {
      onMessage: (next) => {
        if (next.t === 'offer') {
          parts.push(next);
          if (next.last) ask();
        } else if (next.t === 'cancel') {
          cancelled = true;
          this.unregister(m.xfer);
        }
      },
      onBlock: () => undefined,
      abort: () => {
        cancelled = true;
        this.unregister(m.xfer);
      },
    });
    if (m.last) ask();
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
    this.pairing?.abort(this.closed);
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
