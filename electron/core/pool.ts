/**
 * The sockets of one session and the send window over them. A sender asks for a socket with
 * room for a block; the pool picks the open socket with the fewest bytes in flight whose write
 * buffer is not full, so blocks stripe over all sockets and a slow one gets fewer. Acks give the
 * room back. Memory stays bounded by sockets x WINDOW_PER_SOCKET whatever the file size.
 */
import { EventEmitter } from 'node:events';
import { FerryError } from '../../shared/errors.js';
import type { SocketInfo } from '../../shared/events.js';
import type { Connection } from './protocol/connection.js';
import { WINDOW_PER_SOCKET } from './protocol/constants.js';

interface Slot {
  conn: Connection;
  inFlight: number;
  sent: number;
}

export interface PoolEvents {
  /** A socket joined, changed or closed. */
  socket: [SocketInfo];
  /** A data socket closed: senders put its blocks in flight back in the queue. */
  lost: [Connection];
}

export class SocketPool extends EventEmitter<PoolEvents> {
  private readonly slots = new Map<Connection, Slot>();
  private waiters: { bytes: number; resolve: (c: Connection) => void; reject: (e: FerryError) => void }[] = [];
  private closedError: FerryError | undefined;

  constructor(readonly window = WINDOW_PER_SOCKET) {
    super();
  }

  get size(): number {
    return this.slots.size;
  }

  connections(): Connection[] {
    return [...this.slots.keys()];
  }

  add(conn: Connection): void {
    const slot: Slot = { conn, inFlight: 0, sent: 0 };
    this.slots.set(conn, slot);
    conn.on('drain', () => this.wake());
    conn.once('close', () => {
      this.slots.delete(conn);
      this.emit('socket', this.info(slot, 'closed'));
      this.emit('lost', conn);
      this.wake();
    });
    this.emit('socket', this.info(slot, 'open'));
    this.wake();
  }

  info(slot: Slot, state: 'open' | 'closed' = slot.conn.isClosed ? 'closed' : 'open'): SocketInfo {
    const c = slot.conn;
    return {
      id: c.id,
      local: `${c.localAddress}:${c.localPort}`,
      remote: `${c.remoteAddress}:${c.remotePort}`,
      state,
      bytesInFlight: slot.inFlight,
      bytesSent: c.bytesOut,
      bytesReceived: c.bytesIn,
      bytesPerSecond: 0,
    };
  }

  /** A snapshot of every socket, for a live view. */
  snapshot(): SocketInfo[] {
    return [...this.slots.values()].map((s) => this.info(s));
  }

  private pick(bytes: number): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots.values()) {
      if (!s.conn.writable) continue;
      // A block larger than the window may still go alone on an idle socket.
      if (s.inFlight > 0 && s.inFlight + bytes > this.window) continue;
      if (!best || s.inFlight < best.inFlight) best = s;
    }
    return best;
  }

  /** Resolves with a socket that has room for `bytes` more in flight, and counts them. */
  acquire(bytes: number): Promise<Connection> {
    if (this.closedError) return Promise.reject(this.closedError);
    const s = this.pick(bytes);
    if (s && this.waiters.length === 0) {
      s.inFlight += bytes;
      s.sent += bytes;
      return Promise.resolve(s.conn);
    }
    return new Promise((resolve, reject) => this.waiters.push({ bytes, resolve, reject }));
  }

  /** Give back room when a block was acknowledged (or its socket is gone). */
  release(conn: Connection, bytes: number): void {
    const s = this.slots.get(conn);
    if (s) s.inFlight = Math.max(0, s.inFlight - bytes);
    this.wake();
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      const s = this.pick(w.bytes);
      if (!s) return;
      this.waiters.shift();
      s.inFlight += w.bytes;
      s.sent += w.bytes;
      w.resolve(s.conn);
    }
  }

  /** Fail every waiter: the session is over. */
  close(err: FerryError): void {
    this.closedError = err;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(err);
  }

  /** Pause or resume reading on every socket (the disk is slower than the network). */
  setReading(on: boolean, reason: unknown): void {
    for (const c of this.slots.keys()) {
      if (on) c.resumeFor(reason);
      else c.pauseFor(reason);
    }
  }
}
