/**
 * TLS 1.3 over the engine's plain node:net sockets, authenticated by pinned fingerprints and
 * never by a certificate authority (issue 4). Both sides present their self-signed identity
 * certificate; each learns the other's SHA-256 fingerprint, and the engine decides what that
 * device may do. Nothing here trusts anyone:
 *
 * - the server asks for a client certificate (requestCert) but lets unknown ones through the
 *   handshake (rejectUnauthorized false), because a device that is not trusted yet may still
 *   say hello and ask to pair; a client with no certificate at all is refused;
 * - the client accepts the server's certificate only by fingerprint: with `expectFingerprint`
 *   it refuses any other (FERRY_ERR_IDENTITY_CHANGED) before a byte of the protocol is sent;
 *   without it (a first contact, to pair) it reports what it saw and the caller decides;
 * - no host name or date checks: a fingerprint says everything a CA would, and more.
 *
 * The handshake finishes before these functions resolve, so the socket they give back is a plain
 * duplex for protocol/connection.ts, which runs over it unchanged.
 *
 * Ownership: once a net.Socket is handed to upgradeServerSocket / upgradeClientSocket, the TLS
 * socket owns it. Close the TLS socket only; destroying the TLS socket closes the TCP one. Never
 * destroy the raw socket and then the TLS socket in the same tick: on node 20 that closes the
 * shared handle twice and the process dies with a segmentation fault (found by these tests).
 */
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { FerryError } from '../../../shared/errors.js';
import { formatDeviceId } from './device-id.js';
import type { Identity } from './identity.js';

/**
 * AES-128-GCM first: with AES-NI (x86 since 2010) or the ARMv8 crypto extensions it is the
 * fastest AEAD OpenSSL has, ahead of OpenSSL's own default first choice AES-256-GCM (14 rounds
 * against 10). ChaCha20-Poly1305 stays for CPUs without AES instructions, which put it first in
 * their own offer. The server's order wins (honorCipherOrder).
 */
export const TLS_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384';
/** A TCP connection that has not finished the TLS handshake by then is dropped. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsPeer {
  socket: tls.TLSSocket;
  /** SHA-256 of the peer certificate's DER: compare with formatDeviceId / the trust store. */
  peerFingerprint: Buffer;
}

export interface TlsUpgradeOptions {
  handshakeTimeoutMs?: number;
}

export interface TlsClientOptions extends TlsUpgradeOptions {
  /** The fingerprint pinned for this peer; any other certificate is refused. */
  expectFingerprint?: Buffer;
}

export interface TlsConnectOptions extends TlsClientOptions {
  connectTimeoutMs?: number;
}

const contexts = new WeakMap<Identity, tls.SecureContext>();

/** One secure context per identity, shared by every socket (building one parses the key). */
export function secureContextFor(identity: Identity): tls.SecureContext {
  let ctx = contexts.get(identity);
  if (!ctx) {
    ctx = tls.createSecureContext({
      key: identity.key,
      cert: identity.cert,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: TLS_CIPHERSUITES,
      honorCipherOrder: true,
    });
    contexts.set(identity, ctx);
  }
  return ctx;
}

/** The SHA-256 of the certificate the peer presented, if it presented one. */
export function peerFingerprintOf(socket: tls.TLSSocket): Buffer | undefined {
  const cert = socket.getPeerX509Certificate();
  return cert ? createHash('sha256').update(cert.raw).digest() : undefined;
}

function where(socket: net.Socket): string {
  const a = socket.remoteAddress;
  if (!a) return 'the peer';
  return `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort}`;
}

/** A failed handshake, in words: who, and the likely reason. */
function handshakeError(err: NodeJS.ErrnoException, peer: string): FerryError {
  const code = err.code ?? '';
  if (err instanceof FerryError) return err;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') {
    return new FerryError('FERRY_ERR_CONNECTION_LOST', `${peer} closed the connection during the TLS handshake`, {
      cause: err,
    });
  }
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW/.test(code)) {
    return new FerryError(
      'FERRY_ERR_VERSION',
      `${peer} does not speak TLS 1.3, which Ferry requires; update Ferry there (${code})`,
      { cause: err },
    );
  }
  if (
    /WRONG_VERSION_NUMBER|HTTP_REQUEST|PACKET_LENGTH_TOO_LONG|RECORD_LAYER|UNEXPECTED_MESSAGE|RECORD_TOO_LARGE/.test(
      code,
    )
  ) {
    return new FerryError(
      'FERRY_ERR_PROTOCOL',
      `${peer} did not start an encrypted (TLS) connection: an older Ferry without encryption, or not Ferry at all (${code})`,
      { cause: err },
    );
  }
  return new FerryError('FERRY_ERR_PROTOCOL', `The TLS handshake with ${peer} failed: ${code || err.message}`, {
    cause: err,
  });
}

/**
 * Run a handshake on `tlsSocket`: resolve with the peer's fingerprint once `event` fires and
 * `check` agrees, or destroy the socket and reject with one FerryError.
 */
function handshake(
  tlsSocket: tls.TLSSocket,
  peer: string,
  event: 'secure' | 'secureConnect',
  opts: TlsUpgradeOptions,
  check: (fp: Buffer | undefined) => FerryError | undefined,
): Promise<TlsPeer> {
  const ms = opts.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS;
  return new Promise<TlsPeer>((resolve, reject) => {
    let settled = false;
    const finish = (err: FerryError | undefined, fp?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tlsSocket.off(event, onSecure);
      tlsSocket.off('close', onClose);
      if (err) {
        // Keep a listener: a late error from a socket we are throwing away must not crash.
        tlsSocket.on('error', () => undefined);
        tlsSocket.off('error', onError);
        // Destroying the TLS socket closes the wrapped one too. Never destroy both in one tick:
        // node 20 double-closes the shared handle and crashes (see the note on upgrade*).
        tlsSocket.destroy();
        reject(err);
      } else {
        tlsSocket.off('error', onError);
        resolve({ socket: tlsSocket, peerFingerprint: fp! });
      }
    };
    const onSecure = (): void => {
      if (tlsSocket.getProtocol() !== 'TLSv1.3') {
        finish(new FerryError('FERRY_ERR_VERSION', `${peer} negotiated ${tlsSocket.getProtocol()}, not TLS 1.3`));
        return;
      }
      const fp = peerFingerprintOf(tlsSocket);
      const err = check(fp);
      finish(err, fp);
    };
    const onError = (err: NodeJS.ErrnoException): void => finish(handshakeError(err, peer));
    const onClose = (): void =>
      finish(new FerryError('FERRY_ERR_CONNECTION_LOST', `${peer} closed the connection during the TLS handshake`));
    const timer = setTimeout(
      () => finish(new FerryError('FERRY_ERR_TIMEOUT', `${peer} did not finish the TLS handshake within ${ms} ms`)),
      ms,
    );
    tlsSocket.once(event, onSecure);
    tlsSocket.on('error', onError);
    tlsSocket.once('close', onClose);
  });
}

/**
 * Server side: run the TLS 1.3 handshake on an accepted socket. Resolves with the client's
 * fingerprint, whoever it is (deciding who may do what is the engine's job); rejects a client
 * that presents no certificate (FERRY_ERR_NOT_TRUSTED), speaks no TLS (FERRY_ERR_PROTOCOL), or
 * stalls (FERRY_ERR_TIMEOUT). The socket is destroyed on any failure.
 */
export function upgradeServerSocket(
  socket: net.Socket,
  identity: Identity,
  opts: TlsUpgradeOptions = {},
): Promise<TlsPeer> {
  const peer = where(socket);
  const tlsSocket = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: secureContextFor(identity),
    requestCert: true,
    rejectUnauthorized: false,
  });
  return handshake(tlsSocket, peer, 'secure', opts, (fp) =>
    fp
      ? undefined
      : new FerryError(
          'FERRY_ERR_NOT_TRUSTED',
          `${peer} presented no certificate: every Ferry device proves its identity with one`,
        ),
  );
}

/** What a client says when the server is not the device it pinned. */
export function identityChangedError(peer: string, expected: Buffer, got: Buffer | undefined): FerryError {
  const saw = got ? `device ID ${formatDeviceId(got)}` : 'no certificate';
  return new FerryError(
    'FERRY_ERR_IDENTITY_CHANGED',
    `${peer} is not the device you trusted: it presented ${saw}, where ${formatDeviceId(expected)} was expected. ` +
      'Either that device was reinstalled or its identity reset, or someone between you and it is intercepting the ' +
      'connection. Nothing was sent. If you know the device was reset, remove it from your trusted devices and pair again.',
  );
}

/**
 * Client side: run the TLS 1.3 handshake on a connected socket. With `expectFingerprint`, any
 * other server certificate is refused with FERRY_ERR_IDENTITY_CHANGED before the protocol
 * starts; without it, the caller gets the fingerprint to show and decide on (pairing).
 */
export function upgradeClientSocket(
  socket: net.Socket,
  identity: Identity,
  opts: TlsClientOptions = {},
): Promise<TlsPeer> {
  const peer = where(socket);
  const tlsSocket = tls.connect({
    socket,
    secureContext: secureContextFor(identity),
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    // Self-signed by design: the certificate is checked by its fingerprint below, not by a CA
    // or a host name. (Node skips checkServerIdentity once the chain fails; say it anyway.)
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  const expect = opts.expectFingerprint;
  return handshake(tlsSocket, peer, 'secureConnect', opts, (fp) => {
    if (!fp) return new FerryError('FERRY_ERR_PROTOCOL', `${peer} presented no certificate`);
    if (expect && !fp.equals(expect)) return identityChangedError(peer, expect, fp);
    return undefined;
  });
}

/** Connect to `host:port` and run the client handshake (FERRY_ERR_UNREACHABLE when nobody answers). */
export async function connectTls(
  addr: { host: string; port: number },
  identity: Identity,
  opts: TlsConnectOptions = {},
): Promise<TlsPeer> {
  const text = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: addr.host, port: addr.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new FerryError('FERRY_ERR_UNREACHABLE', `Cannot reach the peer: ${text} did not answer in time`));
    }, opts.connectTimeoutMs ?? 10_000);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new FerryError('FERRY_ERR_UNREACHABLE', `Cannot reach the peer at ${text}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    });
  });
  socket.setNoDelay(true);
  return upgradeClientSocket(socket, identity, opts);
}
