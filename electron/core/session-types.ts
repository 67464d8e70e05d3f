/** What a transfer's worker needs from its session, and what the session needs from a worker. */
import type { FerryError } from '../../shared/errors.js';
import type { SocketPool } from './pool.js';
import type { BlockHeader } from './protocol/codec.js';
import type { Connection } from './protocol/connection.js';
import type { Message } from './protocol/messages.js';

export interface TransferHost {
  /** The connection that carries control messages; data goes over `pool`. */
  readonly control: Connection;
  readonly pool: SocketPool;
  unregister(xfer: number): void;
}

export interface TransferHandler {
  onMessage(m: Message): void;
  onBlock(h: BlockHeader, payload: Buffer, conn: Connection): void;
  /** The session is over or the transfer was cancelled. */
  abort(err: FerryError): void;
}
