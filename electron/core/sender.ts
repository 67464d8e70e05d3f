/**
 * The sending half of a transfer (an upload on the client, a download on the server): offers
 * the manifest, reads and hashes blocks, stripes them over the session's sockets within the
 * send window, resends what fails its check or was in flight on a socket that died, and ends
 * when the receiver says every file has landed.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { codeFromWire, FerryError, toErrorInfo, WIRE_CODES } from '../../shared/errors.js';
import type { ConflictPolicy } from '../../shared/types.js';
import { Bitmap, blockCount, blockLength } from './blocks.js';
import { fsError } from './fs-guard.js';
import { blockDigestInto, fileDigest } from './hash.js';
import type { Connection } from './protocol/connection.js';
import { BufferPool } from './buffer-pool.js';
import {
  BLOCK_HEADER_SIZE,
  FRAME_HEADER_SIZE,
  MAX_BLOCK_RETRIES,
  MIN_BLOCK_SIZE,
  OFFER_PART_BYTES,
  OFFER_PART_ENTRIES,
} from './protocol/constants.js';
import type { Decision, Message, OfferEntry } from './protocol/messages.js';
import type { TransferHandler, TransferHost } from './session-types.js';
import type { Transfer } from './transfer.js';

/** Where a sent file's bytes come from: a file on disk, or (browser shell) a page's File. */
export interface BlockSource {
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Size and mtime now, to catch a file that changed while it was sent (disk files). */
  stat?(): Promise<{ size: number; mtimeMs: number }>;
  close(): Promise<void>;
}

export interface LocalFile {
  entry: OfferEntry;
  /** Absolute path on this machine (files and folders from disk). */
  abs?: string;
  /** Opens the bytes of a file that is not on disk; used instead of abs. */
  open?: () => Promise<BlockSource>;
}

async function openDiskSource(abs: string): Promise<BlockSource> {
  const fh: FileHandle = await open(abs, 'r');
  return {
    read: async (buf, offset, length, position) => (await fh.read(buf, offset, length, position)).bytesRead,
    stat: () => fh.stat(),
    close: () => fh.close(),
  };
}

interface InFlight {
  conn: Connection;
  f: number;
  b: number;
  payload: Buffer;
  /** The whole data frame: DATA_HEAD bytes of room for the headers, then the payload. */
  frame: Buffer;
  digest: Buffer;
  tries: number;
}

/** Full 1 MiB blocks are read into reused buffers (see buffer-pool.ts). */
const DATA_HEAD = FRAME_HEADER_SIZE + BLOCK_HEADER_SIZE;
const SEND_POOL = new BufferPool(MIN_BLOCK_SIZE + DATA_HEAD, 32);

/** How many files are read at once: small files pipeline, large files read one block at a time. */
const READ_CONCURRENCY = 8;

const key = (f: number, b: number): number => f * 0x400000 + b;

/**
 * What a block takes of a socket's send window: its size, but at least 64 KiB. Each block is
 * work for the receiver beyond its bytes (for a small file: creating it, which costs ~0.5 ms
 * here), so an 8 MiB window holds at most 128 small files in flight per socket, not 2,000.
 */
const windowCost = (bytes: number): number => Math.max(bytes, 64 * 1024);

/** Offer parts: at most OFFER_PART_ENTRIES entries and OFFER_PART_BYTES of paths, whichever comes first. */
function splitParts(entries: OfferEntry[]): OfferEntry[][] {
  const parts: OfferEntry[][] = [[]];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(e.path) + 96;
    const cur = parts[parts.length - 1]!;
    if (cur.length > 0 && (cur.length >= OFFER_PART_ENTRIES || bytes + size > OFFER_PART_BYTES)) {
      parts.push([e]);
      bytes = size;
    } else {
      cur.push(e);
      bytes += size;
    }
  }
  return parts;
}

export class Sender implements TransferHandler {
  private readonly decisions: (Decision | undefined)[] = [];
  private repliesDone!: () => void;
  private readonly replies = new Promise<void>((r) => (this.repliesDone = r));
  private completeResolve!: () => void;
  private completeReject!: (e: FerryError) => void;
  private readonly complete = new Promise<void>((res, rej) => {
    this.completeResolve = res;
    this.completeReject = rej;
  });
  private readonly inflight = new Map<number, InFlight>();
  private readonly failedFiles = new Set<number>();
  private aborted: FerryError | undefined;
  private completed = false;

  constructor(
    private readonly host: TransferHost,
    readonly xfer: number,
    private readonly transfer: Transfer,
    private readonly files: LocalFile[],
    private readonly offer: { to?: string; conflict?: ConflictPolicy } = {},
  ) {
    transfer.canceller = (err, keep) => {
      this.host.control.send({ t: 'cancel', xfer, code: WIRE_CODES[err.code], message: err.message, keep });
      this.abort(err);
    };
    this.complete.catch(() => undefined);
  }

  /** Runs the whole transfer; resolves or rejects when it ends (the Transfer holds the outcome). */
  async run(): Promise<void> {
    const t = this.transfer;
    try {
      t.setState('running');
      const fileInfos = [];
      for (let i = 0; i < this.files.length; i++) {
        const e = this.files[i]!.entry;
        if (e.kind !== 'file') continue;
        t.filesTotal++;
        t.bytesTotal += e.size;
        fileInfos.push({ index: i, path: e.path, size: e.size, blocks: blockCount(e.size, e.bs), blockSize: e.bs });
      }
      t.emit('files', fileInfos);
      this.host.pool.on('lost', this.onLost);
      t.trackSockets(this.host.pool);
      const parts = splitParts(this.files.map((f) => f.entry));
      parts.forEach((part, k) => {
        this.host.control.send({
          t: 'offer',
          xfer: this.xfer,
          files: part,
          ...this.offer,
          last: k === parts.length - 1,
        });
      });
      await Promise.race([this.replies, this.complete]);
      this.check();
      const queue: number[] = [];
      for (let i = 0; i < this.files.length; i++) {
        const f = this.files[i]!;
        const d = this.decisions[i];
        if (f.entry.kind !== 'file') {
          if (d?.a === 'refuse')
            this.fileFailed(i, new FerryError(codeFromWire(d.code), d.reason ?? 'Refused by the peer'), 'refused');
          continue;
        }
        if (!d) throw new FerryError('FERRY_ERR_PROTOCOL', `The peer gave no answer for ${f.entry.path}`);
        if (d.a === 'send' || d.a === 'resume') {
          queue.push(i);
        } else if (d.a === 'skip') {
          t.bytesTotal -= f.entry.size;
          t.filesSkipped++;
          t.filesDone++;
          t.file({ index: i, path: f.entry.path, state: 'skipped', reason: d.reason ?? 'exists' });
        } else {
          const code = codeFromWire(d.code);
          this.fileFailed(i, new FerryError(code, d.reason ?? 'Refused by the peer'), 'refused');
        }
      }
      t.emitProgress(true);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < queue.length && !this.aborted) await this.sendFile(queue[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, queue.length) }, worker));
      this.check();
      t.setState('verifying');
      this.host.control.send({ t: 'done', xfer: this.xfer });
      await this.complete;
      this.check();
      t.finish();
    } catch (err) {
      const e = err instanceof FerryError ? err : fsError(err, 'sending');
      // A failure of our own (not the peer's cancel or a lost session): tell the peer, once.
      if (!this.aborted)
        this.host.control.send({ t: 'cancel', xfer: this.xfer, code: WIRE_CODES[e.code], message: e.message });
      this.abort(e);
    } finally {
      this.host.pool.off('lost', this.onLost);
      this.host.unregister(this.xfer);
    }
  }

  private check(): void {
    if (this.aborted) throw this.aborted;
  }

  private fileFailed(i: number, err: FerryError, state: 'failed' | 'refused' = 'failed'): void {
    if (this.failedFiles.has(i)) return;
    this.failedFiles.add(i);
    const path = this.files[i]!.entry.path;
    this.transfer.failures.push({ path, error: toErrorInfo(err) });
    this.transfer.filesDone++;
    this.transfer.file({ index: i, path, state, error: toErrorInfo(err), reason: err.message });
  }

  private async sendFile(i: number): Promise<void> {
    const file = this.files[i]!;
    const entry = file.entry;
    const d = this.decisions[i]!;
    const n = blockCount(entry.size, entry.bs);
    const have = d.a === 'resume' && d.have ? Bitmap.fromBase64(n, d.have) : undefined;
    const digests = Buffer.allocUnsafe(n * 16);
    let src: BlockSource | undefined;
    this.transfer.file({ index: i, path: entry.path, state: 'sending' });
    try {
      src = file.open ? await file.open() : await openDiskSource(file.abs!);
      for (let b = 0; b < n; b++) {
        this.check();
        if (this.failedFiles.has(i)) return;
        const len = blockLength(entry.size, entry.bs, b);
        const frame = SEND_POOL.take(DATA_HEAD + len);
        const buf = frame.subarray(DATA_HEAD);
        let got = 0;
        while (got < len) {
          const bytesRead = await src.read(buf, got, len - got, b * entry.bs + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        if (got < len)
          throw new FerryError('FERRY_ERR_FILE_CHANGED', `${entry.path} got shorter while it was being sent`);
        blockDigestInto(buf, digests, b * 16);
        if (have?.get(b)) {
          SEND_POOL.give(frame);
          this.transfer.addDone(len);
          if (this.transfer.watchingBlocks) this.transfer.block({ file: i, block: b, state: 'verified' });
          continue;
        }
        await this.sendBlock(i, b, buf, frame, digests.subarray(b * 16, b * 16 + 16), 0);
      }
      const st = await src.stat?.();
      if (st && (st.size !== entry.size || Math.round(st.mtimeMs) !== entry.mtime)) {
        throw new FerryError('FERRY_ERR_FILE_CHANGED', `${entry.path} changed while it was being sent; send it again`);
      }
      this.host.control.send({ t: 'end', xfer: this.xfer, f: i, root: fileDigest(digests) });
    } catch (err) {
      if (this.aborted) return;
      const e = err instanceof FerryError ? err : fsError(err, `reading "${entry.path}"`);
      this.fileFailed(i, e);
      this.dropInflight((r) => r.f === i);
      this.host.control.send({ t: 'skip-file', xfer: this.xfer, f: i, code: WIRE_CODES[e.code], message: e.message });
    } finally {
      await src?.close().catch(() => undefined);
    }
  }

  private async sendBlock(
    f: number,
    b: number,
    payload: Buffer,
    frame: Buffer,
    digest: Buffer,
    tries: number,
  ): Promise<void> {
    const conn = await this.host.pool.acquire(windowCost(payload.length));
    if (this.aborted || this.failedFiles.has(f)) {
      this.host.pool.release(conn, windowCost(payload.length));
      return;
    }
    this.inflight.set(key(f, b), { conn, f, b, payload, frame, digest, tries });
    conn.sendBlock({ transfer: this.xfer, file: f, block: b, flags: 0, digest }, payload, frame);
    this.transfer.bytesSent += payload.length;
    if (this.transfer.watchingBlocks)
      this.transfer.block({ file: f, block: b, state: 'inflight', socket: conn.id, retries: tries });
  }

  private readonly onLost = (conn: Connection): void => {
    for (const r of [...this.inflight.values()]) {
      if (r.conn !== conn) continue;
      this.inflight.delete(key(r.f, r.b));
      this.resend(r, r.tries);
    }
  };

  private resend(r: InFlight, tries: number): void {
    this.sendBlock(r.f, r.b, r.payload, r.frame, r.digest, tries).catch((err: unknown) =>
      this.abort(err instanceof FerryError ? err : new FerryError('FERRY_ERR_INTERNAL', String(err))),
    );
  }

  private dropInflight(pred: (r: InFlight) => boolean): void {
    for (const [k, r] of this.inflight) {
      if (!pred(r)) continue;
      this.inflight.delete(k);
      this.host.pool.release(r.conn, windowCost(r.payload.length));
    }
  }

  onMessage(m: Message): void {
    switch (m.t) {
      case 'reply':
        for (const d of m.d) if (d.i < this.files.length) this.decisions[d.i] = d;
        if (m.last) this.repliesDone();
        break;
      case 'ack': {
        const watching = this.transfer.watchingBlocks;
        for (let j = 0; j + 1 < m.b.length; j += 2) {
          const k = key(m.b[j]!, m.b[j + 1]!);
          const r = this.inflight.get(k);
          if (!r) continue;
          this.inflight.delete(k);
          this.host.pool.release(r.conn, windowCost(r.payload.length));
          this.transfer.addDone(r.payload.length);
          // Acknowledged means the socket wrote it long ago: the buffer is free again.
          SEND_POOL.give(r.frame);
          if (watching) this.transfer.block({ file: r.f, block: r.b, state: 'verified', socket: r.conn.id });
        }
        break;
      }
      case 'nack': {
        const r = this.inflight.get(key(m.f, m.b));
        if (!r) break;
        this.inflight.delete(key(m.f, m.b));
        this.host.pool.release(r.conn, windowCost(r.payload.length));
        this.transfer.block({ file: m.f, block: m.b, state: 'failed', socket: r.conn.id, retries: r.tries + 1 });
        if (r.tries + 1 > MAX_BLOCK_RETRIES) {
          const e = new FerryError('FERRY_ERR_INTEGRITY', `Block ${m.b} failed its check ${r.tries + 1} times`);
          this.fileFailed(m.f, e);
          this.host.control.send({
            t: 'skip-file',
            xfer: this.xfer,
            f: m.f,
            code: WIRE_CODES[e.code],
            message: e.message,
          });
        } else {
          this.resend(r, r.tries + 1);
        }
        break;
      }
      case 'landed':
        for (const l of m.files) {
          const file = this.files[l.f];
          if (!file) continue;
          if (l.code !== undefined) {
            this.fileFailed(l.f, new FerryError(codeFromWire(l.code), l.message ?? 'failed on the peer'));
          } else {
            this.transfer.filesLanded++;
            this.transfer.filesDone++;
            this.transfer.file({
              index: l.f,
              path: file.entry.path,
              state: 'landed',
              ...(l.path !== undefined ? { landedAs: l.path } : {}),
            });
          }
        }
        this.transfer.emitProgress(false);
        break;
      case 'complete':
        // Everything landed. The peer may close right after saying so (a CLI that is done), and
        // that close can arrive before run() resumes: the transfer ends well, whatever comes next.
        this.completed = true;
        this.transfer.finish();
        this.completeResolve();
        break;
      case 'cancel':
        this.abort(new FerryError(codeFromWire(m.code), m.message));
        break;
      default:
        throw new FerryError('FERRY_ERR_PROTOCOL', `Unexpected "${m.t}" for an outgoing transfer`);
    }
  }

  onBlock(): void {
    throw new FerryError('FERRY_ERR_PROTOCOL', 'Data sent to the sending side of a transfer');
  }

  /** Stop: the session died, the peer cancelled, or the user did. */
  abort(err: FerryError): void {
    if (this.aborted || this.completed) return;
    this.aborted = err;
    this.dropInflight(() => true);
    this.completeReject(err);
    this.repliesDone();
    this.transfer.finish(err);
  }
}
