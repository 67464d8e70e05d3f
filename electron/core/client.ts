/**
 * The client side of a session: connect and say hello, then list, upload, download and ping.
 * Every operation the shells offer is a method here; transfers come back as Transfer objects
 * whose events the shells draw.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { codeFromWire, FerryError } from '../../shared/errors.js';
import { labelFor } from '../../shared/format.js';
import { formatPeerAddress, parsePeerAddress, type PeerAddress } from '../../shared/peer-address.js';
import type { ConflictPolicy, RemoteEntry } from '../../shared/types.js';
import { fsError } from './fs-guard.js';
import { CAPABILITIES, defaultIdentity, type DeviceIdentity } from './identity.js';
import { Connection, type ConnectionOptions } from './protocol/connection.js';
import { DEFAULT_SOCKETS, MAX_SOCKETS_PER_SESSION } from './protocol/constants.js';
import type { Message } from './protocol/messages.js';
import { Receiver } from './receiver.js';
import { type LocalFile, Sender } from './sender.js';
import {
  formatDeviceId,
  type Identity,
  identityChangedError,
  type TrustStore,
  upgradeClientSocket,
} from './identity/index.js';
import { PairingInitiator } from './pairing.js';
import { Session } from './session.js';
import type { Duplex } from 'node:stream';
import { Transfer } from './transfer.js';
import { walkLocal, type WalkResult } from './walk.js';

export interface ConnectOptions extends ConnectionOptions {
  identity?: DeviceIdentity;
  connectTimeoutMs?: number;
  /**
   * Encrypt and authenticate: TLS 1.3 with this device's certificate. The peer's certificate is
   * checked by fingerprint: `expect` (e.g. `--trust DEVICE_ID`) names the only devices this
   * connection may be with (any other is refused before a byte is sent); otherwise any device may
   * answer, but files are listed, sent or fetched only when `trust` (or `expect`) holds it, and
   * pairing is how it gets there. Without `tls` (engine tests only), plain TCP.
   */
  tls?: { identity: Identity; trust?: TrustStore; expect?: Buffer[] };
}

export interface UploadOptions {
  /** Folder inside the peer's shared folder, '/'-separated; default its root. */
  to?: string;
  conflict?: ConflictPolicy;
  /** Sockets to stripe blocks over (default DEFAULT_SOCKETS). */
  sockets?: number;
}

export interface DownloadOptions {
  /** Local folder to download into (created if missing). */
  out: string;
  conflict?: ConflictPolicy;
  sockets?: number;
}

type HelloReply = Extract<Message, { t: 'hello' }>;

function describeConnectError(addr: PeerAddress, err: NodeJS.ErrnoException): FerryError {
  const where = formatPeerAddress(addr);
  const why =
    err.code === 'ECONNREFUSED'
      ? `nothing is listening at ${where}; is Ferry running there?`
      : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
        ? `cannot find a host named "${addr.host}"`
        : err.code === 'ETIMEDOUT'
          ? `${where} did not answer in time`
          : `${where}: ${err.code ?? err.message}`;
  return new FerryError('FERRY_ERR_UNREACHABLE', `Cannot reach the peer: ${why}`, { cause: err });
}

/** Open a TCP connection and complete the hello exchange. */
async function dial(
  addr: PeerAddress,
  opts: ConnectOptions,
  identity: DeviceIdentity,
  join?: { session: string; key: string },
): Promise<{ conn: Connection; hello: HelloReply; peerFingerprint: Buffer | undefined }> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: addr.host, port: addr.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(describeConnectError(addr, Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    }, opts.connectTimeoutMs ?? 10_000);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(describeConnectError(addr, err));
    });
  });
  socket.setNoDelay(true);
  let stream: Duplex = socket;
  let peerFingerprint: Buffer | undefined;
  if (opts.tls) {
    const secure = await upgradeClientSocket(socket, opts.tls.identity, {
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
    });
    stream = secure.socket;
    peerFingerprint = secure.peerFingerprint;
    const expect = opts.tls.expect;
    if (expect && expect.length > 0 && !expect.some((fp) => fp.equals(secure.peerFingerprint))) {
      secure.socket.destroy();
      throw identityChangedError(formatPeerAddress(addr), expect[0]!, secure.peerFingerprint);
    }
  }
  const conn = new Connection(stream, opts);
  conn.send({
    t: 'hello',
    name: identity.name,
    device: opts.tls ? opts.tls.identity.deviceId : identity.device,
    caps: CAPABILITIES,
    ...(join ? { join } : {}),
  });
  const hello = await new Promise<HelloReply>((resolve, reject) => {
    const onClose = (err?: FerryError): void =>
      reject(err ?? new FerryError('FERRY_ERR_CONNECTION_LOST', 'The peer closed the connection during the hello'));
    conn.once('close', onClose);
    conn.once('message', (m) => {
      conn.off('close', onClose);
      if (m.t !== 'hello') reject(new FerryError('FERRY_ERR_PROTOCOL', 'The peer did not answer with a hello'));
      else if (peerFingerprint && m.device !== formatDeviceId(peerFingerprint)) {
        conn.destroy();
        reject(new FerryError('FERRY_ERR_PROTOCOL', 'The peer names another device than its certificate proves'));
      } else resolve(m);
    });
  });
  return { conn, hello, peerFingerprint };
}

export class FerryClient {
  private nextReq = 1;
  private nextXfer = 1;

  private constructor(
    readonly session: Session,
    readonly address: PeerAddress,
    private readonly opts: ConnectOptions,
    private readonly identity: DeviceIdentity,
    private readonly join: { session: string; key: string } | undefined,
  ) {}

  /** Connect to `host:port` (or a parsed address). Fails with FERRY_ERR_UNREACHABLE and words. */
  static async connect(peer: string | PeerAddress, opts: ConnectOptions = {}): Promise<FerryClient> {
    const addr = typeof peer === 'string' ? parsePeerAddress(peer) : peer;
    const identity = opts.identity ?? defaultIdentity();
    const { conn, hello, peerFingerprint } = await dial(addr, opts, identity);
    const session = new Session(
      conn,
      {
        name: hello.name,
        device: hello.device,
        address: formatPeerAddress(addr),
        ...(peerFingerprint ? { fingerprint: peerFingerprint } : {}),
      },
      undefined,
    );
    const join = hello.session && hello.key ? { session: hello.session, key: hello.key } : undefined;
    return new FerryClient(session, addr, opts, identity, join);
  }

  get peerName(): string {
    return this.session.peer.name;
  }

  /** The peer's device ID (from its certificate, with TLS). */
  get peerDeviceId(): string {
    return this.session.peer.device;
  }

  /** Whether this side trusts the peer enough to list, send or fetch (always, without TLS). */
  get peerTrusted(): boolean {
    const t = this.opts.tls;
    const fp = this.session.peer.fingerprint;
    if (!t) return true;
    if (!fp) return false;
    // Our own certificate: the other end holds this device's key (the same home), so it is us.
    if (fp.equals(t.identity.fingerprint)) return true;
    return !!t.expect?.some((e) => e.equals(fp)) || !!t.trust?.get(fp);
  }

  /** Why this side will not show or hand files to the peer (not paired), or undefined. */
  private untrusted(): FerryError | undefined {
    if (this.peerTrusted) return undefined;
    const p = this.session.peer;
    return new FerryError(
      'FERRY_ERR_NOT_TRUSTED',
      `${p.name} (${p.device}) at ${p.address} is not paired with this device: pair the two devices first (ferry pair ${p.address})`,
    );
  }

  private requireTrusted(): void {
    const err = this.untrusted();
    if (err) throw err;
  }

  /**
   * Ask the peer to pair (see docs/security.md). Show `code` next to the peer's name and device ID;
   * the person at the peer compares it and approves. On 'accepted' this side trusts the peer
   * (with default permissions, in `tls.trust`).
   */
  pair(): PairingInitiator {
    const t = this.opts.tls;
    const fp = this.session.peer.fingerprint;
    if (!t || !fp) throw new FerryError('FERRY_ERR_UNSUPPORTED', 'Pairing needs an encrypted connection');
    const initiator = new PairingInitiator({
      localFingerprint: t.identity.fingerprint,
      peerFingerprint: fp,
      send: (m) => this.session.control.send(m),
    });
    this.session.pairing = initiator;
    initiator.result.then(
      (outcome) => {
        if (outcome === 'accepted' && t.trust) t.trust.add({ fingerprint: fp, name: this.session.peer.name });
      },
      () => undefined,
    );
    initiator.start();
    return initiator;
  }

  /** Open data sockets until the session has `n` (the control connection counts as one). */
  async ensureSockets(n: number): Promise<void> {
    const want = Math.max(1, Math.min(MAX_SOCKETS_PER_SESSION, Math.floor(n)));
    if (!this.join) return;
    const dials = [];
    for (let k = this.session.pool.size; k < want; k++) {
      dials.push(dial(this.address, this.opts, this.identity, this.join).then(({ conn }) => this.session.attach(conn)));
    }
    await Promise.all(dials);
  }

  private request<T>(
    send: (req: number) => void,
    onReply: (m: Message, done: (v: T) => void, fail: (e: FerryError) => void) => void,
  ): Promise<T> {
    const req = this.nextReq++;
    return new Promise<T>((resolve, reject) => {
      const done = (v: T): void => {
        this.session.requests.delete(req);
        resolve(v);
      };
      const fail = (e: FerryError): void => {
        this.session.requests.delete(req);
        reject(e);
      };
      this.session.requests.set(req, (m) => {
        if (m.t === 'fail') fail(new FerryError(codeFromWire(m.code), m.message));
        else onReply(m, done, fail);
      });
      if (this.session.closedError) fail(this.session.closedError);
      else send(req);
    });
  }

  /** List a folder of the peer's share ('' is its root). */
  list(peerPath = '', onPart?: (entries: RemoteEntry[]) => void): Promise<RemoteEntry[]> {
    const untrusted = this.untrusted();
    if (untrusted) return Promise.reject(untrusted);
    const all: RemoteEntry[] = [];
    return this.request<RemoteEntry[]>(
      (req) => this.session.control.send({ t: 'list', req, path: peerPath }),
      (m, done) => {
        if (m.t === 'list-part') {
          for (const e of m.entries) all.push(e);
          onPart?.(m.entries);
        } else if (m.t === 'list-end') done(all);
      },
    );
  }

  /** Round-trip time in milliseconds. */
  async ping(): Promise<number> {
    return this.session.control.ping();
  }

  /** Send local files and folders; they land under the peer's share (or `to` inside it). */
  upload(paths: string[], opts: UploadOptions = {}): Transfer {
    return this.uploadFrom(labelFor(paths.map((p) => path.basename(path.resolve(p)))), () => walkLocal(paths), opts);
  }

  /**
   * Send files that are not (all) on disk, such as files dropped into the browser shell: each
   * file entry brings its own `open()`. Folders are entries of kind 'dir'.
   */
  uploadFiles(files: LocalFile[], opts: UploadOptions = {}): Transfer {
    const tops = [...new Set(files.map((f) => f.entry.path.split('/')[0]!))];
    return this.uploadFrom(labelFor(tops), () => Promise.resolve({ files, skipped: [] }), opts);
  }

  private uploadFrom(label: string, manifest: () => Promise<WalkResult>, opts: UploadOptions): Transfer {
    const transfer = new Transfer({
      direction: 'upload',
      peer: formatPeerAddress(this.address),
      peerName: this.peerName,
      label,
    });
    const xfer = this.nextXfer++;
    void (async () => {
      try {
        this.requireTrusted();
        const { files, skipped } = await manifest();
        transfer.leftOut.push(...skipped);
        await this.ensureSockets(opts.sockets ?? DEFAULT_SOCKETS);
        const s = new Sender(this.session, xfer, transfer, files, {
          ...(opts.to ? { to: opts.to } : {}),
          conflict: opts.conflict ?? 'rename',
        });
        this.session.register(xfer, s);
        await s.run();
      } catch (err) {
        transfer.finish(err instanceof FerryError ? err : fsError(err, 'preparing the upload'));
      }
    })();
    return transfer;
  }

  /** Fetch files and folders from the peer's share into a local folder. */
  download(peerPaths: string[], opts: DownloadOptions): Transfer {
    const transfer = new Transfer({
      direction: 'download',
      peer: formatPeerAddress(this.address),
      peerName: this.peerName,
      label: labelFor(peerPaths.map((p) => p.split('/').pop() || '(shared folder)')),
    });
    const xfer = this.nextXfer++;
    void (async () => {
      try {
        this.requireTrusted();
        await fs.promises.mkdir(opts.out, { recursive: true });
        const base = await fs.promises.realpath(opts.out);
        await this.ensureSockets(opts.sockets ?? DEFAULT_SOCKETS);
        const r = new Receiver(this.session, xfer, transfer, { base, to: [], conflict: opts.conflict ?? 'rename' });
        this.session.register(xfer, r);
        // The server answers a get with an offer (or a cancel saying why).
        this.session.control.send({ t: 'get', xfer, paths: peerPaths });
      } catch (err) {
        transfer.finish(err instanceof FerryError ? err : fsError(err, `preparing the download folder "${opts.out}"`));
      }
    })();
    return transfer;
  }

  close(): void {
    this.session.close(new FerryError('FERRY_ERR_CANCELLED', 'Closed by this side'));
  }

  /**
   * Close, and resolve once what was written has left (at most `ms`): a process that exits right
   * after a transfer must not cut off its last messages (over TLS, writes are encrypted and sent
   * a moment later, so an exit straight after close() would lose the final `complete`).
   */
  async closeGracefully(ms = 1000): Promise<void> {
    this.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.session.control.gone, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }
}
