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
import { Session } from './session.js';
import type { Transfer } from './transfer.js';

export interface ServerOptions extends ConnectionOptions {
  /** The shared folder. */
  root: string;
  /** Default 127.0.0.1: connections are not yet encrypted or authenticated. */
  host?: string;
  /** Default 0: any free port (read it back from address()). */
  port?: number;
  readOnly?: boolean;
  identity?: DeviceIdentity;
  maxConnections?: number;
  maxSocketsPerSession?: number;
}

export interface ServerEvents {
  session: [Session];
  transfer: [Transfer, Session];
  /** Something the operator should know (listening beyond loopback, a refused client). */
  warning: [string];
  connectionError: [FerryError];
}

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
    if (!isLoopback(host)) {
      // Warned once listening; listeners attach after start() resolves, so defer.
      setImmediate(() =>
        s.emit(
          'warning',
          `Listening on ${host}: connections are not encrypted and peers are not authenticated yet; anyone who can reach this port can read${opts.readOnly ? '' : ' and write'} the shared folder.`,
        ),
      );
    }
    return s;
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
      if (m.join) {
        const session = this.sessions.get(m.join.session);
        if (!session || session.key !== m.join.key) {
          conn.fail(new FerryError('FERRY_ERR_PROTOCOL', 'Unknown session to join'));
          return;
        }
        conn.send({ t: 'hello', name: this.identity.name, device: this.identity.device, caps: CAPABILITIES });
        session.attach(conn);
        return;
      }
      const session = new Session(
        conn,
        { name: m.name, device: m.device, address },
        {
          realRoot: this.realRoot,
          readOnly: !!this.opts.readOnly,
          maxSockets: this.opts.maxSocketsPerSession ?? MAX_SOCKETS_PER_SESSION,
        },
      );
      this.sessions.set(session.id, session);
      session.once('close', () => this.sessions.delete(session.id));
      session.on('transfer', (t) => this.emit('transfer', t, session));
      conn.send({
        t: 'hello',
        name: this.identity.name,
        device: this.identity.device,
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
