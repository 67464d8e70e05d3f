/**
 * The receiving half of a transfer (an upload on the server, a download on the client): answers
 * the manifest file by file (send, resume, skip, refuse), checks every block's digest before it
 * counts as written, checks the whole file against the sender's digest, syncs in batches, and
 * only then gives each file its final name.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeFromWire, FerryError, toErrorInfo, WIRE_CODES } from '../../shared/errors.js';
import { checkPeerPath } from '../../shared/path-guard.js';
import type { TransferFileInfo } from '../../shared/events.js';
import type { ConflictPolicy } from '../../shared/types.js';
import { Bitmap, blockCount, blockLength, chooseBlockSize } from './blocks.js';
import { fsError, realInside } from './fs-guard.js';
import { blockDigest, fileDigest } from './hash.js';
import {
  appendJournal,
  createJournal,
  land,
  numberedName,
  partialNames,
  readJournal,
  removeQuietly,
  syncBatch,
  syncDir,
} from './landing.js';
import type { BlockHeader } from './protocol/codec.js';
import { RECEIVE_POOL } from './protocol/connection.js';
import { OFFER_PART_ENTRIES } from './protocol/constants.js';
import type { Decision, LandedFile, Message, OfferEntry } from './protocol/messages.js';
import type { TransferHandler, TransferHost } from './session-types.js';
import type { Transfer } from './transfer.js';

export interface ReceiveOptions {
  /** Real path of the folder everything lands under (the share root, or the download folder). */
  base: string;
  /** Sub-folder of base, as checked path components. */
  to: string[];
  conflict: ConflictPolicy;
}

interface RFile {
  i: number;
  entry: OfferEntry;
  dir: string;
  name: string;
  /** Path of the parent relative to base, '/'-separated. */
  relDir: string;
  part: string;
  journal: string | undefined;
  n: number;
  have: Bitmap | undefined;
  haveCount: number;
  digests: Buffer | undefined;
  fd: number | undefined;
  /** Writes waiting for the partial file to open. */
  waiting: ((fd: number) => void)[];
  /** Bytes of per-block state held for this file (see allocate). */
  stateBytes: number;
  resume: boolean;
  writes: number;
  root: string | undefined;
  state: 'open' | 'landing' | 'done' | 'failed';
  unjournaled: number[];
}

const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Largest file accepted: 4 TiB is 262,144 blocks of 16 MiB, 4 MiB of digests while it is open. */
const MAX_FILE_SIZE = 4 * 2 ** 40;
/** Per-block state a transfer may hold at once: 64 MiB is 16 files of 4 TiB half-received. */
const MAX_BLOCK_STATE = 64 * 1024 * 1024;
/**
 * Writes go to disk in pieces of this size: on this VM's ext4, one write(2) of 1 MiB costs 6-10x
 * the kernel CPU of eight writes of 128 KiB (measured by the bench: 1 GiB to disk took 1.5-2.5 s
 * of CPU in 1 MiB writes, 0.22 s in 128 KiB writes), and elsewhere it costs nothing.
 */
const WRITE_PIECE = 128 * 1024;

/** Partial files being written by any receiver in this process: two transfers never share one. */
const activeParts = new Map<string, Receiver>();

/**
 * A receiver that got nothing for this long from a peer on the same host that now offers the same
 * file again has been abandoned (a connection that died without a FIN, noticed only at the idle
 * timeout): the new transfer takes its partial over and resumes it.
 */
const STALE_MS = 1000;

/** Receiver-wide bytes waiting for the disk before sockets pause (the disk is slower than the net). */
const WRITE_HIGH_WATER = 16 * 1024 * 1024;
const WRITE_LOW_WATER = 4 * 1024 * 1024;
/** What a pending write costs besides its bytes (file state, callbacks, an open in progress). */
const PENDING_OVERHEAD = 4096;
/** Landing batches: fsync many files, then rename them, then fsync their folders once. */
const LAND_BATCH_FILES = 1000;
const LAND_BATCH_BYTES = 64 * 1024 * 1024;
const LAND_DELAY_MS = 20;
const CHECKPOINT_MS = 1000;

export class Receiver implements TransferHandler {
  private readonly files: (RFile | undefined)[] = [];
  private readonly dirs: { abs: string; mtime: number; depth: number }[] = [];
  private readonly dirCache = new Map<string, string>();
  private offerChain: Promise<void> = Promise.resolve();
  private offered = 0;
  private readonly fileInfos: TransferFileInfo[] = [];
  private outstanding = 0;
  private senderDone = false;
  private aborted: FerryError | undefined;
  private acks: number[] = [];
  private stateBytes = 0;
  private ackScheduled = false;
  private pendingBytes = 0;
  private paused = false;
  private landQueue: RFile[] = [];
  private landQueueBytes = 0;
  private landTimer: NodeJS.Timeout | undefined;
  private landing: Promise<void> = Promise.resolve();
  private landingBusy = 0;
  private readonly checkpointTimer: NodeJS.Timeout;
  private completed = false;
  /** When a message or block last arrived for this transfer (see STALE_MS). */
  lastActivity = Date.now();

  constructor(
    private readonly host: TransferHost,
    readonly xfer: number,
    private readonly transfer: Transfer,
    private readonly opts: ReceiveOptions,
  ) {
    transfer.canceller = (err, keep) => {
      this.host.control.send({ t: 'cancel', xfer, code: WIRE_CODES[err.code], message: err.message, keep });
      this.abort(err, !keep);
    };
    transfer.setState('running');
    transfer.trackSockets(host.pool);
    this.checkpointTimer = setInterval(() => this.checkpointAll(), CHECKPOINT_MS);
    this.checkpointTimer.unref();
  }

  get peerHost(): string {
    return this.host.control.remoteAddress;
  }

  onMessage(m: Message): void {
    this.lastActivity = Date.now();
    switch (m.t) {
      case 'offer':
        this.offerChain = this.offerChain
          .then(() => this.onOffer(m.files, m.last))
          .catch((err: unknown) => this.fail(err));
        break;
      case 'end': {
        const f = this.files[m.f];
        if (!f) break;
        f.root = m.root;
        this.maybeFinalize(f);
        break;
      }
      case 'skip-file': {
        const f = this.files[m.f];
        if (f && (f.state === 'open' || f.state === 'landing')) {
          this.dropFile(f, true);
          const error = new FerryError(codeFromWire(m.code), m.message);
          this.transfer.failures.push({ path: f.entry.path, error: toErrorInfo(error) });
          this.transfer.filesDone++;
          this.transfer.file({ index: f.i, path: f.entry.path, state: 'failed', error: toErrorInfo(error) });
          this.settle();
        }
        break;
      }
      case 'done':
        this.senderDone = true;
        this.transfer.setState('verifying');
        this.scheduleLanding(true);
        this.maybeComplete();
        break;
      case 'cancel':
        this.abort(new FerryError(codeFromWire(m.code), m.message), !m.keep);
        break;
      default:
        throw new FerryError('FERRY_ERR_PROTOCOL', `Unexpected "${m.t}" for an incoming transfer`);
    }
  }

  private async onOffer(entries: OfferEntry[], last: boolean): Promise<void> {
    if (this.aborted) return;
    const decisions: Decision[] = [];
    const infos = this.fileInfos;
    for (const entry of entries) {
      const i = this.offered++;
      const d = this.decide(i, entry);
      // A folder gets a decision only when refused, so the sender can say which and why.
      if (entry.kind === 'dir' && d.a === 'refuse') decisions.push(d);
      if (entry.kind === 'file') {
        decisions.push(d);
        const f = this.files[i];
        infos.push({
          index: i,
          path: entry.path,
          size: entry.size,
          blocks: blockCount(entry.size, entry.bs),
          blockSize: entry.bs,
        });
        this.transfer.filesTotal++;
        this.transfer.bytesTotal += entry.size;
        if (d.a === 'skip') {
          this.transfer.bytesTotal -= entry.size;
          this.transfer.filesSkipped++;
          this.transfer.filesDone++;
          this.transfer.file({ index: i, path: entry.path, state: 'skipped', reason: d.reason ?? 'exists' });
        } else if (d.a === 'refuse') {
          const error = { code: codeFromWire(d.code), message: d.reason ?? 'refused' };
          this.transfer.failures.push({ path: entry.path, error });
          this.transfer.filesDone++;
          this.transfer.file({ index: i, path: entry.path, state: 'refused', error });
        } else if (f) {
          this.transfer.addDone(f.resume ? resumedBytes(f) : 0);
        }
      }
      if (i % 512 === 511) await new Promise((r) => setImmediate(r));
    }
    if (last) this.transfer.emit('files', infos);
    for (let j = 0; j < decisions.length || (j === 0 && last); j += OFFER_PART_ENTRIES) {
      const part = decisions.slice(j, j + OFFER_PART_ENTRIES);
      this.host.control.send({
        t: 'reply',
        xfer: this.xfer,
        d: part,
        last: last && j + OFFER_PART_ENTRIES >= decisions.length,
      });
    }
  }

  /** Answer one manifest entry. Every path from the peer goes through the guard first. */
  private decide(i: number, entry: OfferEntry): Decision {
    try {
      const comps = checkPeerPath(entry.path);
      if (entry.kind === 'dir') {
        const abs = this.resolveDir([...this.opts.to, ...comps]);
        this.dirs.push({ abs, mtime: entry.mtime, depth: comps.length });
        return { i, a: 'skip' };
      }
      if (entry.size > MAX_FILE_SIZE) {
        throw new FerryError(
          'FERRY_ERR_UNSUPPORTED',
          `${entry.path} is larger than the ${MAX_FILE_SIZE / 2 ** 40} TiB Ferry takes`,
        );
      }
      // The block size is a function of the size, so a manifest cannot ask for millions of blocks.
      if (entry.bs !== chooseBlockSize(entry.size)) {
        throw new FerryError('FERRY_ERR_PROTOCOL', `Block size ${entry.bs} does not fit a file of ${entry.size} bytes`);
      }
      const name = comps[comps.length - 1]!;
      const parentComps = comps.slice(0, -1);
      const dir = this.resolveDir([...this.opts.to, ...parentComps]);
      const target = path.join(dir, name);
      const st = lstatOrUndefined(target);
      if (st) {
        if (isSame(st, entry)) return { i, a: 'skip', reason: 'identical' };
        // Under rename, an earlier attempt may have landed it as `name (k).ext`: the same file there
        // is identical too, so a retry does not land it a second time.
        if (this.opts.conflict === 'rename') {
          for (let k = 1; k < 100; k++) {
            const sib = lstatOrUndefined(path.join(dir, numberedName(name, k)));
            if (!sib) break;
            if (isSame(sib, entry)) return { i, a: 'skip', reason: 'identical' };
          }
        }
        if (this.opts.conflict === 'skip') {
          return { i, a: 'skip', code: WIRE_CODES.FERRY_ERR_EXISTS, reason: 'exists' };
        }
        if (this.opts.conflict === 'overwrite' && st.isDirectory()) {
          throw new FerryError('FERRY_ERR_EXISTS', `A folder named ${name} stands where the file would go`);
        }
      }
      let names = partialNames(name);
      let part = path.join(dir, names.part);
      let resumable = true;
      const owner = activeParts.get(part);
      if (owner && owner !== this && owner.peerHost === this.peerHost && Date.now() - owner.lastActivity > STALE_MS) {
        owner.abort(new FerryError('FERRY_ERR_CONNECTION_LOST', 'The peer started this transfer again'));
      }
      if (activeParts.has(part)) {
        // The same name is arriving in another transfer right now: this one gets a partial of its
        // own (and no resume), and the conflict policy decides at landing.
        names = partialNames(name, randomBytes(4).toString('hex'));
        part = path.join(dir, names.part);
        resumable = false;
      }
      const n = blockCount(entry.size, entry.bs);
      const journal = n > 1 && resumable ? path.join(dir, names.journal) : undefined;
      const prior = journal && fs.existsSync(part) ? readJournal(journal, entry, n) : undefined;
      const f: RFile = {
        i,
        entry,
        dir,
        name,
        relDir: [...this.opts.to, ...parentComps].join('/'),
        part,
        journal,
        n,
        // Allocated when the first block arrives (or from the journal): an offer costs no memory per block.
        have: prior?.have,
        haveCount: prior ? prior.have.count() : 0,
        digests: prior?.digests,
        fd: undefined,
        waiting: [],
        stateBytes: 0,
        resume: !!prior,
        writes: 0,
        root: undefined,
        state: 'open',
        unjournaled: [],
      };
      activeParts.set(part, this);
      this.files[i] = f;
      this.outstanding++;
      if (prior) return { i, a: 'resume', have: prior.have.toBase64() };
      if (n > 1 && !resumable) return { i, a: 'send' };
      return { i, a: 'send' };
    } catch (err) {
      const e = err instanceof FerryError ? err : fsError(err, `receiving "${entry.path}"`);
      return { i, a: 'refuse', code: WIRE_CODES[e.code], reason: e.message };
    }
  }

  /** Real path of a folder under base, created as needed, never leaving base through a link. */
  private resolveDir(comps: string[]): string {
    let real = this.opts.base;
    for (let k = 0; k < comps.length; k++) {
      const rel = comps.slice(0, k + 1).join('/');
      const cached = this.dirCache.get(rel);
      if (cached) {
        real = cached;
        continue;
      }
      const p = path.join(real, comps[k]!);
      let st = lstatOrUndefined(p);
      if (!st) {
        try {
          fs.mkdirSync(p);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(err, `creating the folder "${rel}"`);
        }
        st = fs.lstatSync(p);
      }
      let next = p;
      if (st.isSymbolicLink()) {
        try {
          next = fs.realpathSync(p);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          // A link to nothing: where would it lead?
          const target = path.resolve(path.dirname(p), fs.readlinkSync(p));
          throw realInside(this.opts.base, target)
            ? new FerryError('FERRY_ERR_NOT_FOUND', `${rel} is a link to a folder that does not exist`)
            : new FerryError('FERRY_ERR_OUTSIDE_ROOT', `${rel} leads outside the shared folder`);
        }
        if (!realInside(this.opts.base, next)) {
          throw new FerryError('FERRY_ERR_OUTSIDE_ROOT', `${rel} leads outside the shared folder`);
        }
        st = fs.statSync(next);
      }
      if (!st.isDirectory()) throw new FerryError('FERRY_ERR_NOT_A_DIRECTORY', `${rel} is a file, not a folder`);
      this.dirCache.set(rel, next);
      real = next;
    }
    return real;
  }

  onBlock(h: BlockHeader, payload: Buffer): void {
    this.lastActivity = Date.now();
    const f = this.files[h.file];
    if (!f || f.state !== 'open' || this.aborted) return; // a late block for a dropped file
    if (h.block >= f.n || payload.length !== blockLength(f.entry.size, f.entry.bs, h.block)) {
      throw new FerryError('FERRY_ERR_PROTOCOL', `Block ${h.block} of ${f.entry.path} has the wrong size`);
    }
    this.transfer.bytesSent += payload.length;
    if (f.have?.get(h.block)) {
      RECEIVE_POOL.give(payload);
      this.ack(h.file, h.block);
      return;
    }
    const digest = blockDigest(payload);
    if (!digest.equals(h.digest)) {
      this.host.control.send({
        t: 'nack',
        xfer: this.xfer,
        f: h.file,
        b: h.block,
        code: WIRE_CODES.FERRY_ERR_INTEGRITY,
      });
      RECEIVE_POOL.give(payload);
      this.transfer.block({ file: h.file, block: h.block, state: 'failed' });
      return;
    }
    if (f.have === undefined) this.allocate(f);
    // A small block is a view of a whole socket chunk (64 KiB): copied, the chunk can go now and
    // not when the file's slow create finishes. What waits is counted with a per-write overhead,
    // so thousands of tiny files waiting for the disk pause the sockets too.
    if (payload.length < payload.buffer.byteLength / 2) payload = Buffer.from(payload);
    const cost = payload.length + PENDING_OVERHEAD;
    f.writes++;
    this.pendingBytes += cost;
    if (!this.paused && this.pendingBytes > WRITE_HIGH_WATER) {
      this.paused = true;
      this.host.pool.setReading(false, this);
    }
    const b = h.block;
    this.withFd(f, (fd) =>
      writePieces(fd, payload, b * f.entry.bs, (err) => {
        RECEIVE_POOL.give(payload);
        f.writes--;
        this.pendingBytes -= cost;
        if (this.paused && this.pendingBytes < WRITE_LOW_WATER) {
          this.paused = false;
          this.host.pool.setReading(true, this);
        }
        if (f.state !== 'open') return;
        if (err) {
          this.fileFailed(f, fsError(err, `writing "${f.entry.path}"`));
          return;
        }
        if (!f.have!.get(b)) {
          f.have!.set(b);
          f.haveCount++;
          digest.copy(f.digests!, b * 16);
          if (f.journal) f.unjournaled.push(b);
          this.transfer.addDone(payload.length);
        }
        if (this.transfer.watchingBlocks) this.transfer.block({ file: f.i, block: b, state: 'verified' });
        this.ack(f.i, b);
        this.maybeFinalize(f);
      }),
    );
  }

  /**
   * Per-block state (bitmap and digests) exists only for files whose blocks are arriving, and a
   * peer cannot make it grow past MAX_BLOCK_STATE: a manifest of huge files costs nothing until
   * their data comes, and then only as much as an honest sender's window could cause.
   */
  private allocate(f: RFile): void {
    const bytes = f.n * 16 + Math.ceil(f.n / 8);
    if (this.stateBytes + bytes > MAX_BLOCK_STATE) {
      throw new FerryError('FERRY_ERR_PROTOCOL', 'Too many large files sent at once');
    }
    this.stateBytes += bytes;
    f.stateBytes = bytes;
    f.have = new Bitmap(f.n);
    f.digests = Buffer.alloc(f.n * 16);
  }

  private release(f: RFile): void {
    this.stateBytes -= f.stateBytes;
    f.stateBytes = 0;
  }

  /**
   * Run `fn` with the partial file's descriptor, opening it first (asynchronously: creating a
   * file costs ~0.5 ms of kernel time here, and the event loop should not wait for it).
   */
  private withFd(f: RFile, fn: (fd: number) => void): void {
    if (f.fd !== undefined) return fn(f.fd);
    f.waiting.push(fn);
    if (f.waiting.length > 1) return;
    openPartial(f.part, f.resume, (err, fd) => {
      const waiting = f.waiting;
      f.waiting = [];
      if (err || fd === undefined) {
        for (let k = 0; k < waiting.length; k++) f.writes--;
        this.fileFailed(f, fsError(err, `writing "${f.entry.path}"`));
        return;
      }
      if (f.state !== 'open') {
        fs.close(fd, () => undefined);
        for (let k = 0; k < waiting.length; k++) f.writes--;
        return;
      }
      f.fd = fd;
      if (!f.resume) {
        if (f.journal) createJournal(f.journal, f.entry);
        this.transfer.file({ index: f.i, path: f.entry.path, state: 'sending' });
      }
      for (const w of waiting) w(fd);
    });
  }

  private ack(file: number, block: number): void {
    this.acks.push(file, block);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      const b = this.acks;
      this.acks = [];
      if (!this.aborted && b.length > 0) this.host.control.send({ t: 'ack', xfer: this.xfer, b });
    });
  }

  private maybeFinalize(f: RFile): void {
    if (f.state !== 'open' || f.root === undefined || f.haveCount < f.n || f.writes > 0) return;
    if (fileDigest(f.digests ?? Buffer.alloc(f.n * 16)) !== f.root) {
      this.fileFailed(f, new FerryError('FERRY_ERR_INTEGRITY', `${f.entry.path} does not match the sender's checksum`));
      return;
    }
    try {
      if (f.fd === undefined) f.fd = fs.openSync(f.part, fs.constants.O_RDWR | NOFOLLOW);
      const t = toSeconds(f.entry.mtime);
      fs.futimesSync(f.fd, t, t);
      // Close now: thousands of small files may wait for their batch, and need no descriptor
      // for it (the batch is synced by file system, or each file reopened for its fsync).
      fs.closeSync(f.fd);
      f.fd = undefined;
      this.release(f);
    } catch (err) {
      this.fileFailed(f, fsError(err, `writing "${f.entry.path}"`));
      return;
    }
    f.state = 'landing';
    this.landQueue.push(f);
    this.landQueueBytes += f.entry.size;
    this.scheduleLanding(this.landQueue.length >= LAND_BATCH_FILES || this.landQueueBytes >= LAND_BATCH_BYTES);
  }

  private scheduleLanding(now: boolean): void {
    if (this.landQueue.length === 0) return;
    if (!now) {
      this.landTimer ??= setTimeout(() => {
        this.landTimer = undefined;
        this.scheduleLanding(true);
      }, LAND_DELAY_MS);
      return;
    }
    if (this.landTimer) clearTimeout(this.landTimer);
    this.landTimer = undefined;
    const batch = this.landQueue;
    this.landQueue = [];
    this.landQueueBytes = 0;
    this.landingBusy++;
    this.landing = this.landing
      .then(() => this.landBatch(batch))
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.landingBusy--;
        this.maybeComplete();
      });
  }

  /** Sync a batch of complete files, give them their final names, sync their folders. */
  private async landBatch(batch: RFile[]): Promise<void> {
    const errors = await syncBatch(batch.map((f) => ({ file: f.part, dir: f.dir })));
    errors.forEach((err, k) => {
      if (err) this.fileFailed(batch[k]!, fsError(err, `writing "${batch[k]!.entry.path}"`));
    });
    const results: LandedFile[] = [];
    const dirs = new Set<string>();
    for (const f of batch) {
      if (f.state !== 'landing') continue;
      try {
        const finalName = land(f.part, f.dir, f.name, this.opts.conflict);
        removeQuietly(f.journal);
        activeParts.delete(f.part);
        f.state = 'done';
        this.outstanding--;
        dirs.add(f.dir);
        const rel = f.relDir ? `${f.relDir}/${finalName}` : finalName;
        results.push({ f: f.i, path: rel });
        this.transfer.filesLanded++;
        this.transfer.filesDone++;
        this.transfer.file({ index: f.i, path: f.entry.path, state: 'landed', landedAs: rel });
      } catch (err) {
        const e = err instanceof FerryError ? err : fsError(err, `writing "${f.entry.path}"`);
        this.fileFailed(f, e);
      }
    }
    await Promise.all([...dirs].map(syncDir));
    if (results.length > 0 && !this.aborted) this.host.control.send({ t: 'landed', xfer: this.xfer, files: results });
    this.transfer.emitProgress(false);
  }

  private fileFailed(f: RFile, err: FerryError): void {
    if (f.state === 'failed' || f.state === 'done') return;
    this.dropFile(f, true);
    this.transfer.failures.push({ path: f.entry.path, error: toErrorInfo(err) });
    this.transfer.filesDone++;
    this.transfer.file({ index: f.i, path: f.entry.path, state: 'failed', error: toErrorInfo(err) });
    if (!this.aborted) {
      this.host.control.send({
        t: 'landed',
        xfer: this.xfer,
        files: [{ f: f.i, code: WIRE_CODES[err.code], message: err.message }],
      });
    }
    this.settle();
  }

  /** Close a file; delete its partial (and journal) unless it is kept for a resume. */
  private dropFile(f: RFile, discard: boolean): void {
    if (f.fd !== undefined) {
      if (!discard) this.checkpoint(f, true);
      try {
        fs.closeSync(f.fd);
      } catch {
        // already closed
      }
      f.fd = undefined;
    }
    if (discard) removeQuietly(f.part, f.journal);
    this.release(f);
    activeParts.delete(f.part);
    if (f.state === 'open' || f.state === 'landing') this.outstanding--;
    f.state = 'failed';
  }

  private settle(): void {
    this.maybeComplete();
  }

  /** Make verified blocks durable, then record them: a journal never claims an unsynced block. */
  private checkpoint(f: RFile, sync: boolean): void {
    if (!f.journal || f.fd === undefined || f.unjournaled.length === 0) return;
    const blocks = f.unjournaled;
    f.unjournaled = [];
    const journal = f.journal;
    if (sync) {
      try {
        fs.fdatasyncSync(f.fd);
        appendJournal(journal, blocks, f.digests!);
      } catch {
        // the blocks will be sent again
      }
      return;
    }
    fs.fdatasync(f.fd, (err) => {
      if (err || f.state !== 'open') return;
      try {
        appendJournal(journal, blocks, f.digests!);
      } catch {
        // the blocks will be sent again
      }
    });
  }

  private checkpointAll(): void {
    for (const f of this.files) if (f?.state === 'open') this.checkpoint(f, false);
  }

  private maybeComplete(): void {
    if (this.completed || this.aborted || !this.senderDone || this.outstanding > 0) return;
    if (this.landQueue.length > 0 || this.landingBusy > 0) return;
    this.completed = true;
    clearInterval(this.checkpointTimer);
    // Folder times last, deepest first: writing into a folder changes its mtime.
    for (const d of this.dirs.sort((a, b) => b.depth - a.depth)) {
      try {
        fs.utimesSync(d.abs, toSeconds(d.mtime), toSeconds(d.mtime));
      } catch {
        // a folder time is not worth failing the transfer
      }
    }
    this.host.control.send({ t: 'complete', xfer: this.xfer });
    this.host.unregister(this.xfer);
    this.transfer.finish();
  }

  private fail(err: unknown): void {
    const e = err instanceof FerryError ? err : fsError(err, 'receiving');
    this.host.control.send({ t: 'cancel', xfer: this.xfer, code: WIRE_CODES[e.code], message: e.message });
    this.abort(e);
  }

  /**
   * Stop. A cancel discards partial files; a lost connection keeps them, synced and journaled,
   * so that a retry sends only the missing blocks.
   */
  abort(err: FerryError, discard = false): void {
    if (this.aborted || this.completed) return;
    this.aborted = err;
    clearInterval(this.checkpointTimer);
    if (this.landTimer) clearTimeout(this.landTimer);
    if (this.paused) this.host.pool.setReading(true, this);
    for (const f of this.files) {
      if (f && (f.state === 'open' || f.state === 'landing')) this.dropFile(f, discard || f.n === 1);
    }
    this.host.unregister(this.xfer);
    this.transfer.finish(err);
  }
}

/** Identical: a regular file of the same size whose mtime is within a millisecond. */
function isSame(st: fs.Stats, entry: OfferEntry): boolean {
  return st.isFile() && st.size === entry.size && Math.abs(st.mtimeMs - entry.mtime) < 1;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function resumedBytes(f: RFile): number {
  let n = 0;
  for (let b = 0; b < f.n; b++) if (f.have?.get(b)) n += blockLength(f.entry.size, f.entry.bs, b);
  return n;
}

/**
 * Milliseconds to the seconds utimes takes, nudged by half a microsecond: seconds near 1.8e9 as a
 * double are off by up to ~0.2 us, and 1795406295.487 would land as .486999988. Times travel as
 * whole milliseconds (Math.round of mtimeMs); the nudge keeps the stored time on the right side.
 */
function toSeconds(ms: number): number {
  return (ms + 0.0005) / 1000;
}

/** Write `data` at `position` in WRITE_PIECE pieces, one after another; `cb` once at the end. */
function writePieces(
  fd: number,
  data: Buffer,
  position: number,
  cb: (err: NodeJS.ErrnoException | null) => void,
): void {
  let off = 0;
  const next = (): void => {
    if (off >= data.length) return cb(null);
    const len = Math.min(WRITE_PIECE, data.length - off);
    fs.write(fd, data, off, len, position + off, (err, written) => {
      if (err) return cb(err);
      off += written;
      next();
    });
  };
  if (data.length === 0) {
    // An empty file's single block: nothing to write, but keep callbacks asynchronous.
    setImmediate(() => cb(null));
    return;
  }
  next();
}

/** Open a partial file: O_EXCL for a new one (after removing a stale one), O_NOFOLLOW to resume. */
function openPartial(
  part: string,
  resume: boolean,
  cb: (err: NodeJS.ErrnoException | null, fd?: number) => void,
): void {
  if (resume) {
    fs.open(part, fs.constants.O_RDWR | NOFOLLOW, cb);
    return;
  }
  fs.open(part, 'wx', (err, fd) => {
    if (!err || err.code !== 'EEXIST') return cb(err, fd);
    fs.unlink(part, () => fs.open(part, 'wx', cb));
  });
}
