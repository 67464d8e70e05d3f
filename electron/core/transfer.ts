/**
 * A transfer as its observers see it: state, counters and typed events, the same object for
 * uploads and downloads, on the initiating side and on the serving side. The sender or receiver
 * that does the work reports into it; the shells only listen.
 */
import { EventEmitter } from 'node:events';
import { type ErrorInfo, FerryError, toErrorInfo } from '../../shared/errors.js';
import type {
  BlockEvent,
  FileEvent,
  SocketInfo,
  TransferFileInfo,
  TransferInfo,
  TransferProgress,
  TransferState,
  TransferSummary,
} from '../../shared/events.js';
import type { SocketPool } from './pool.js';

export interface TransferEvents {
  /** The file list is known (after the manifest): one entry per file, with its block layout. */
  files: [TransferFileInfo[]];
  progress: [TransferProgress];
  file: [FileEvent];
  block: [BlockEvent];
  socket: [SocketInfo];
  end: [TransferSummary];
}

/** How often the sockets of a running transfer are reported. */
export const SOCKET_INTERVAL_MS = 250;

/** Progress events are coalesced to at most one per interval, plus one at the end. */
export const PROGRESS_INTERVAL_MS = 100;

let nextId = 1;

export class Transfer extends EventEmitter<TransferEvents> {
  readonly info: TransferInfo;
  private _state: TransferState = 'queued';
  bytesTotal = 0;
  bytesDone = 0;
  bytesSent = 0;
  filesTotal = 0;
  filesDone = 0;
  filesLanded = 0;
  filesSkipped = 0;
  readonly failures: { path: string; error: ErrorInfo }[] = [];
  readonly leftOut: { path: string; reason: string }[] = [];
  private readonly started = Date.now();
  private lastEmit = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  /** Speed over a sliding window of (time, bytesDone) samples. */
  private readonly samples: [number, number][] = [];
  private summary: TransferSummary | undefined;
  private readonly settled: Promise<TransferSummary>;
  private resolveSettled!: (s: TransferSummary) => void;
  /** Set by the worker: how to stop it (sends a cancel to the peer). */
  canceller: ((err: FerryError, keep: boolean) => void) | undefined;
  /** Set by pause(): the transfer stopped on purpose and its partial files wait for a resume. */
  private pausing = false;

  constructor(info: Omit<TransferInfo, 'id'>) {
    super();
    this.info = { ...info, id: `t${nextId++}` };
    this.settled = new Promise((resolve) => (this.resolveSettled = resolve));
  }

  get id(): string {
    return this.info.id;
  }

  get state(): TransferState {
    return this._state;
  }

  get ended(): boolean {
    return this.summary !== undefined;
  }

  setState(s: TransferState): void {
    if (this.ended) return;
    this._state = s;
    this.emitProgress(true);
  }

  /** Wants block events? Building them costs, so workers ask first. */
  get watchingBlocks(): boolean {
    return this.listenerCount('block') > 0;
  }

  block(e: Omit<BlockEvent, 'id'>): void {
    this.emit('block', { id: this.id, ...e });
  }

  file(e: Omit<FileEvent, 'id'>): void {
    this.emit('file', { id: this.id, ...e });
  }

  addDone(bytes: number): void {
    this.bytesDone += bytes;
    this.emitProgress(false);
  }

  progress(): TransferProgress {
    const now = Date.now();
    this.samples.push([now, this.bytesDone]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 3000) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    const dt = (now - t0) / 1000;
    const rate = dt > 0.05 ? (this.bytesDone - b0) / dt : 0;
    const left = this.bytesTotal - this.bytesDone;
    return {
      id: this.id,
      state: this._state,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      bytesSent: this.bytesSent,
      bytesPerSecond: rate,
      etaSeconds: left <= 0 ? 0 : rate > 0 ? left / rate : null,
    };
  }

  emitProgress(force: boolean): void {
    if (this.listenerCount('progress') === 0) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < PROGRESS_INTERVAL_MS) {
      if (!this.progressTimer) {
        this.progressTimer = setTimeout(
          () => {
            this.progressTimer = undefined;
            this.emitProgress(true);
          },
          PROGRESS_INTERVAL_MS - (now - this.lastEmit),
        );
        this.progressTimer.unref();
      }
      return;
    }
    this.lastEmit = now;
    this.emit('progress', this.progress());
  }

  /**
   * While the transfer runs, report every socket of its session (address, state, bytes in
   * flight, throughput) every SOCKET_INTERVAL_MS, for the live view. Returns a stop function.
   */
  trackSockets(pool: SocketPool): () => void {
    const last = new Map<number, [number, number]>();
    const tick = (info: SocketInfo): SocketInfo => {
      const now = Date.now();
      const total = info.bytesSent + info.bytesReceived;
      const prev = last.get(info.id);
      last.set(info.id, [now, total]);
      const dt = prev ? (now - prev[0]) / 1000 : 0;
      return { ...info, bytesPerSecond: prev && dt > 0 ? (total - prev[1]) / dt : 0 };
    };
    const report = (): void => {
      if (this.listenerCount('socket') === 0) return;
      for (const info of pool.snapshot()) this.emit('socket', tick(info));
    };
    const onChange = (info: SocketInfo): void => {
      if (this.listenerCount('socket') > 0) this.emit('socket', tick(info));
    };
    pool.on('socket', onChange);
    const timer = setInterval(report, SOCKET_INTERVAL_MS);
    timer.unref();
    setImmediate(report);
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      pool.off('socket', onChange);
    };
    this.prependOnceListener('end', () => {
      report();
      stop();
    });
    return stop;
  }

  /** Seconds since the transfer was created. */
  get elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** Finish once: done when nothing failed, otherwise failed (or cancelled) with the reason. */
  finish(err?: unknown): TransferSummary {
    if (this.summary) return this.summary;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    const error = err === undefined ? undefined : toErrorInfo(err);
    this._state =
      error?.code === 'FERRY_ERR_CANCELLED'
        ? this.pausing
          ? 'paused'
          : 'cancelled'
        : error || this.failures.length > 0
          ? 'failed'
          : 'done';
    this.emit('progress', this.progress());
    this.summary = {
      id: this.id,
      state: this._state,
      filesLanded: this.filesLanded,
      filesSkipped: this.filesSkipped,
      filesFailed: this.failures.length,
      bytesTotal: this.bytesTotal,
      bytesSent: this.bytesSent,
      failures: this.failures,
      leftOut: this.leftOut,
      ...(error ? { error } : {}),
    };
    this.emit('end', this.summary);
    this.resolveSettled(this.summary);
    return this.summary;
  }

  /** Resolves with the summary when the transfer ends, whatever the outcome. */
  done(): Promise<TransferSummary> {
    return this.settled;
  }

  /** Resolves when everything landed; rejects with a FerryError naming the first failure. */
  async result(): Promise<TransferSummary> {
    const s = await this.settled;
    if (s.error) throw new FerryError(s.error.code, s.error.message);
    const first = s.failures[0];
    if (first) {
      const more = s.failures.length > 1 ? ` (and ${s.failures.length - 1} more)` : '';
      throw new FerryError(first.error.code, `${first.path}: ${first.error.message}${more}`);
    }
    return s;
  }

  /** Stop and discard partial files on the receiving side. */
  cancel(): void {
    this.canceller?.(new FerryError('FERRY_ERR_CANCELLED', 'The transfer was cancelled'), false);
  }

  /**
   * Stop but keep the receiver's partial files and journals, so that starting the same transfer
   * again sends only what is missing. Ends with state 'paused'.
   */
  pause(): void {
    if (this.ended) return;
    this.pausing = true;
    this.canceller?.(new FerryError('FERRY_ERR_CANCELLED', 'The transfer was paused'), true);
  }
}
