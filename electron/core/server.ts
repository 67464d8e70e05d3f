/**
 * The Ferry server: listens, bounds connections, runs the hello, and hands each connection to
 * a new session or to the session it joins as a data socket. One bad client is closed with a
 * reason; everyone else goes on being served.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { FerryError } from '../../shared/errors.js';
import { formatPeerAddress } from '../../shared/peer-address.js';
import { fsError } from './fs-guard.js';
import { CAPABILITIES, defaultIdentity, type DeviceIdentity } from './identity.js';
import { Connection, type ConnectionOptions } from './protocol/connection.js';
import { MAX_CONNECTIONS, MAX_SOCKETS_PER_SESSION } from './protocol/constants.js';
import {
  DEFAULT_PERMISSIONS,
  formatDeviceId,
  type Identity,
  type Permissions,
  TrustStore,
  upgradeServerSocket,
} from './identity/index.js';
import { type AccessPolicy, Session, type UploadRequest } from './session.js';
import type { Duplex } from 'node:stream';
import type { Transfer } from './transfer.js';

export interface ServerOptions extends ConnectionOptions {
  /** The shared folder. */
  root: string;
  /** Default 127.0.0.1 (the shells pass 0.0.0.0: with `tls`, every peer is authenticated). */
  host?: string;
  /** Default 0: any free port (read it back from address()). */
  port?: number;
  readOnly?: boolean;
  identity?: DeviceIdentity;
  maxConnections?: number;
  maxSocketsPerSession?: number;
  /**
   * Encrypt and authenticate: every connection is TLS 1.3 with this device's certificate, and a
   * peer may only say hello and pair until `trust` holds its fingerprint. Without it (engine
   * tests only), connections are plain TCP and everyone may do everything.
   */
  tls?: { identity: Identity; trust: TrustStore };
  /** How long an upload waits for the person to accept it before it counts as declined. */
  askTimeoutMs?: number;
}

/** A peer asks to pair: show its name, device ID and the code, then approve or decline. */
export interface IncomingPairing {
  peer: { name: string; deviceId: string; address: string };
  /** The 6-digit code, once both nonces are in; compare it with the other screen. */
  code: Promise<string>;
  /** Trust the peer (with these permissions) and tell it so. */
  approve(permissions?: Partial<Permissions>): void;
  decline(): void;
  result: Promise<'accepted' | 'declined'>;
}

/** An upload waiting for the person's answer; unanswered, it is declined after askTimeoutMs. */
export interface IncomingUpload extends UploadRequest {
  accept(): void;
  decline(): void;
}

export interface ServerEvents {
  session: [Session];
  /** A peer asks to pair. With no listener, pairings are declined. */
  pairing: [IncomingPairing];
  /** A trusted peer without "send without asking" offers files. With no listener, declined. */
  upload: [IncomingUpload];
  transfer: [Transfer, Session];
  /** Something the operator should know (listening beyond loopback, a refused client). */
  warning: [string];
  connectionError: [FerryError];
}

/** What a connection from this very device (same key, same home) may do: everything. */
const SELF_PERMISSIONS = { browse: true, send: true, autoAccept: true } as const;

/** An upload nobody answers is declined after this long. */
const ASK_TIMEOUT_MS = 60_000;

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

export class FerryServer extends EventEmitter<ServerEvents> {
  private readonly server: net.Server;
  private readonly sessions = new Map<string, Session>();
  private readonly conns = new Set<Connection>();
  readonly identity: DeviceIdentity;
  readonly realRoot: string;

  private constructor(
    private readonly opts: ServerOptions,
    realRoot: string,
  ) {
    super();
    this.realRoot = realRoot;
    this.identity = opts.identity ?? defaultIdentity();
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Check the folder, listen, and resolve once the port is bound. */
  static async start(opts: ServerOptions): Promise<FerryServer> {
    let realRoot: string;
    try {
      realRoot = await fs.promises.realpath(opts.root);
      if (!(await fs.promises.stat(realRoot)).isDirectory()) {
        throw new FerryError('FERRY_ERR_NOT_A_DIRECTORY', `${opts.root} is not a folder`);
      }
    } catch (err) {
      throw fsError(err, `opening the shared folder "${opts.root}"`);
    }
    const s = new FerryServer(opts, realRoot);
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new FerryError(
            err.code === 'EADDRINUSE' ? 'FERRY_ERR_BAD_ARGUMENT' : 'FERRY_ERR_IO',
            err.code === 'EADDRINUSE'
              ? `Port ${opts.port} on ${host} is already in use; choose another with --port`
              : `Cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
      s.server.listen(opts.port ?? 0, host, () => resolve());
    });
    s.server.on('error', () => undefined);
    if (!opts.tls && !isLoopback(host)) {
      // Plain TCP (engine tests) beyond loopback: warned once listening; listeners attach after start() resolves, so defer.
      setImmediate(() =>
        s.emit(
          'warning',
          `Listening on ${host}: connections are not encrypted and peers are not authenticated yet; anyone who can reach this port can read${opts.readOnly ? '' : ' and write'} the shared folder.`,
        ),
      );
    }
    return s;
  }

  /** The device ID peers see: the certificate's with TLS, else the random one of the identity. */
  get deviceId(): string {
    return this.opts.tls?.identity.deviceId ?? this.identity.device;
  }

  address(): { host: string; port: number; text: string } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port, text: formatPeerAddress({ host: a.address, port: a.port }) };
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const tlsOpts = this.opts.tls;
    if (!tlsOpts) {
      this.serve(socket, undefined);
      return;
    }
    upgradeServerSocket(socket, tlsOpts.identity, { handshakeTimeoutMs: this.opts.handshakeTimeoutMs }).then(
      ({ socket: secure, peerFingerprint }) => this.serve(secure, peerFingerprint),
      (err: unknown) =>
        this.emit(
          'connectionError',
          err instanceof FerryError ? err : new FerryError('FERRY_ERR_PROTOCOL', String(err)),
        ),
    );
  }

  /** The trust decisions of a TLS server, asked per request (revoking takes effect at once). */
  private accessPolicy(): AccessPolicy | undefined {
    const t = this.opts.tls;
    if (!t) return undefined;
    return {
      localFingerprint: t.identity.fingerprint,
      permissions: (peer) => {
        if (!peer.fingerprint) return undefined;
        // The same identity on both ends (two terminals with one home) is this device itself.
        if (peer.fingerprint.equals(t.identity.fingerprint)) return SELF_PERMISSIONS;
        return t.trust.get(peer.fingerprint)?.permissions;
      },
      askUpload: (req) =>
        new Promise<boolean>((resolve) => {
          if (this.listenerCount('upload') === 0) return resolve(false);
          let answered = false;
          const answer = (yes: boolean): void => {
            if (answered) return;
            answered = true;
            clearTimeout(timer);
            resolve(yes);
          };
          const timer = setTimeout(() => answer(false), this.opts.askTimeoutMs ?? ASK_TIMEOUT_MS);
          timer.unref();
          this.emit('upload', { ...req, accept: () => answer(true), decline: () => answer(false) });
        }),
      pairing: (peer, responder) => {
        const fingerprint = peer.fingerprint!;
        const incoming: IncomingPairing = {
          peer: { name: peer.name, deviceId: peer.device, address: peer.address },
          code: responder.code,
          result: responder.result,
          approve: (permissions) => {
            if (responder.approve())
              t.trust.add({ fingerprint, name: peer.name, permissions: { ...DEFAULT_PERMISSIONS, ...permissions } });
          },
          decline: () => void responder.decline(),
        };
        responder.code.catch(() => undefined);
        responder.result.catch(() => undefined);
        if (this.listenerCount('pairing') === 0) responder.decline();
        else this.emit('pairing', incoming);
      },
    };
  }

  private serve(socket: Duplex & { setNoDelay?: unknown }, peerFingerprint: Buffer | undefined): void {
    const conn = new Connection(socket, this.opts);
    const max = this.opts.maxConnections ?? MAX_CONNECTIONS;
    this.conns.add(conn);
    conn.once('close', (err) => {
      this.conns.delete(conn);
      if (err && err.code !== 'FERRY_ERR_CONNECTION_LOST') this.emit('connectionError', err);
    });
    if (this.conns.size > max) {
      conn.fail(new FerryError('FERRY_ERR_TOO_MANY_CONNECTIONS', `This server takes at most ${max} connections`));
      return;
    }
    conn.once('message', (m) => {
      if (m.t !== 'hello') return; // Connection only emits after a hello; defensive
      const address = formatPeerAddress({ host: conn.remoteAddress, port: conn.remotePort });
      // With TLS, the device ID a peer claims is the one its certificate proves.
      if (peerFingerprint && m.device !== formatDeviceId(peerFingerprint)) {
        conn.fail(new FerryError('FERRY_ERR_PROTOCOL', 'The hello names another device than the certificate proves'));
        return;
      }
      if (m.join) {
        const session = this.sessions.get(m.join.session);
        const sameDevice =
          !peerFingerprint || (session?.peer.fingerprint && session.peer.fingerprint.equals(peerFingerprint));
        if (!session || session.key !== m.join.key || !sameDevice) {
          conn.fail(new FerryError('FERRY_ERR_PROTOCOL', 'Unknown session to join'));
          return;
        }
        conn.send({ t: 'hello', name: this.identity.name, device: this.deviceId, caps: CAPABILITIES });
        session.attach(conn);
        return;
      }
      const access = this.accessPolicy();
      const session = new Session(
        conn,
        { name: m.name, device: m.device, address, ...(peerFingerprint ? { fingerprint: peerFingerprint } : {}) },
        {
          realRoot: this.realRoot,
          readOnly: !!this.opts.readOnly,
          maxSockets: this.opts.maxSocketsPerSession ?? MAX_SOCKETS_PER_SESSION,
          ...(access ? { access } : {}),
        },
      );
      this.sessions.set(session.id, session);
      session.once('close', () => this.sessions.delete(session.id));
      session.on('transfer', (t) => this.emit('transfer', t, session));
      conn.send({
        t: 'hello',
        name: this.identity.name,
        device: this.deviceId,
        caps: CAPABILITIES,
        session: session.id,
        key: session.key,
      });
      this.emit('session', session);
    });
  }

  /** Stop listening and close every connection; transfers in progress keep their partial files. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions.values()) s.close(new FerryError('FERRY_ERR_CONNECTION_LOST', 'The server stopped'));
    for (const c of this.conns) c.destroy(new FerryError('FERRY_ERR_CONNECTION_LOST', 'The server stopped'));
    await closed;
  }
}
