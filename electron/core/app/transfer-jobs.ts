/**
 * The transfer list: outgoing transfers queued and run a few at a time, incoming ones (a peer
 * uploading here, or downloading from here) followed, each as a TransferView coalesced for the
 * UI, with its live picture. Pause, resume, retry and cancel act on the engine's Transfer; a
 * resumed or retried transfer sends only what is missing (the engine keeps partial files).
 */
import type { LiveSnapshot, PeerState, StreamedEntry, TransferView } from '../../../shared/contract.js';
import { LIVE_HZ, PROGRESS_HZ } from '../../../shared/contract.js';
import { type ErrorInfo, FerryError, toErrorInfo } from '../../../shared/errors.js';
import type { ConflictPolicy } from '../../../shared/types.js';
import type { FerryClient } from '../client.js';
import type { Transfer } from '../transfer.js';
import { LiveState } from './live.js';
import { type StreamReader, streamedFiles } from './streamed.js';
import { Throttle } from './throttle.js';

/** What the transfer list needs from the app. */
export interface JobHost {
  /** A connection to a peer this device trusts; rejects with the reason otherwise. */
  client(peerId: string): Promise<FerryClient>;
  downloadFolder(): string;
  emitTransfer(view: TransferView): void;
  emitLive(snapshot: LiveSnapshot): void;
  /** Whether anyone looks at live pictures (none are made otherwise). */
  wantsLive(): boolean;
}

export type OutgoingSpec = Exclude<JobSpec, { kind: 'incoming' }>;

export type JobSpec =
  | { kind: 'upload'; peer: string; paths: string[]; to: string; conflict: ConflictPolicy }
  | {
      kind: 'uploadStreamed';
      peer: string;
      to: string;
      entries: StreamedEntry[];
      reader: StreamReader;
      conflict: ConflictPolicy;
    }
  | { kind: 'download'; peer: string; paths: string[]; conflict: ConflictPolicy }
  | { kind: 'incoming' };

interface Job {
  view: TransferView;
  spec: JobSpec;
  engine: Transfer | undefined;
  live: LiveState;
  /** Coalesce what crosses to the UI: PROGRESS_HZ transfer updates, LIVE_HZ live pictures. */
  emitter: Throttle;
  liver: Throttle;
}

let nextJob = 1;

const ENDED = new Set(['done', 'failed', 'cancelled']);

export class TransferJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];

  constructor(
    private readonly host: JobHost,
    private readonly maxRunning: number,
  ) {}

  list(): TransferView[] {
    return [...this.jobs.values()].map((j) => ({ ...j.view }));
  }

  private newJob(
    spec: JobSpec,
    view: Omit<
      TransferView,
      | 'id'
      | 'createdAt'
      | 'bytesDone'
      | 'bytesTotal'
      | 'filesDone'
      | 'filesTotal'
      | 'bytesPerSecond'
      | 'etaSeconds'
      | 'failures'
    >,
  ): Job {
    const id = `j${nextJob++}`;
    const job: Job = {
      view: {
        id,
        createdAt: Date.now(),
        bytesDone: 0,
        bytesTotal: 0,
        filesDone: 0,
        filesTotal: 0,
        bytesPerSecond: 0,
        etaSeconds: null,
        failures: [],
        ...view,
      },
      spec,
      engine: undefined,
      live: new LiveState(id),
      emitter: new Throttle(PROGRESS_HZ, () => this.host.emitTransfer({ ...job.view })),
      liver: new Throttle(LIVE_HZ, () => this.host.emitLive(job.live.snapshot())),
    };
    this.jobs.set(id, job);
    return job;
  }

  /** Queue a transfer to or from `p`; it starts when fewer than maxRunning run. */
  enqueue(spec: OutgoingSpec, direction: 'upload' | 'download', p: PeerState, label: string): TransferView {
    const job = this.newJob(spec, {
      direction,
      incoming: false,
      peer: p.address,
      peerName: p.name ?? p.address,
      label,
      state: 'queued',
    });
    this.queue.push(job);
    this.emitJob(job, true);
    this.pump();
    return { ...job.view };
  }

  private running(): number {
    return [...this.jobs.values()].filter((j) => !j.view.incoming && j.engine && !j.engine.ended).length;
  }

  /** Start queued jobs while fewer than maxRunning run. */
  private pump(): void {
    while (this.queue.length > 0 && this.running() < this.maxRunning) {
      const job = this.queue.shift()!;
      if (job.view.state !== 'queued') continue;
      void this.startAttempt(job);
    }
  }

  private async startAttempt(job: Job): Promise<void> {
    const spec = job.spec;
    if (spec.kind === 'incoming') return;
    job.view = { ...job.view, state: 'running', failures: [] };
    delete job.view.error;
    // Count it as running before the connection is up, so pump() does not over-start.
    const placeholder = { ended: false } as Transfer;
    job.engine = placeholder;
    this.emitJob(job, true);
    let t: Transfer;
    try {
      const c = await this.host.client(spec.peer);
      if (job.engine !== placeholder) return; // cancelled meanwhile
      if (spec.kind === 'upload') t = c.upload(spec.paths, { to: spec.to, conflict: spec.conflict });
      else if (spec.kind === 'download')
        t = c.download(spec.paths, { out: this.host.downloadFolder(), conflict: spec.conflict });
      else t = c.uploadFiles(streamedFiles(spec.entries, spec.reader), { to: spec.to, conflict: spec.conflict });
    } catch (err) {
      job.engine = undefined;
      job.view = { ...job.view, state: 'failed', error: toErrorInfo(err) };
      this.emitJob(job, true);
      this.pump();
      return;
    }
    this.watch(job, t);
  }

  private watch(job: Job, t: Transfer): void {
    job.engine = t;
    t.on('files', (files) => {
      job.live.setFiles(files);
      this.emitLive(job, true);
    });
    t.on('block', (e) => {
      job.live.block(e);
      this.emitLive(job, false);
    });
    t.on('file', (e) => {
      job.live.file(e);
      this.emitLive(job, false);
    });
    t.on('socket', (s) => {
      job.live.socket(s);
      this.emitLive(job, false);
    });
    t.on('progress', (p) => {
      job.view = {
        ...job.view,
        // The end (just after) brings the final state with its reason: never one without the other.
        state: ENDED.has(p.state) ? job.view.state : p.state,
        bytesDone: p.bytesDone,
        bytesTotal: p.bytesTotal,
        filesDone: p.filesDone,
        filesTotal: p.filesTotal,
        bytesPerSecond: p.bytesPerSecond,
        etaSeconds: p.etaSeconds,
      };
      this.emitJob(job, false);
    });
    t.on('end', (s) => {
      const error = s.error ?? s.failures[0]?.error;
      job.view = {
        ...job.view,
        state: s.state,
        failures: s.failures,
        bytesPerSecond: 0,
        etaSeconds: s.state === 'done' ? 0 : null,
        ...(error ? { error: job.view.incoming ? error : asInfo(refusedBy(error, job.view.peerName)) } : {}),
      };
      this.emitJob(job, true);
      this.emitLive(job, true);
      this.pump();
    });
  }

  /** A transfer a peer started: listed, not controlled from here (but for cancel). */
  trackIncoming(t: Transfer): void {
    const job = this.newJob(
      { kind: 'incoming' },
      {
        direction: t.info.direction,
        incoming: true,
        peer: t.info.peer,
        peerName: t.info.peerName,
        label: t.info.label,
        state: 'running',
      },
    );
    this.watch(job, t);
    this.emitJob(job, true);
  }

  private job(id: string): Job {
    const j = this.jobs.get(id);
    if (!j) throw new FerryError('FERRY_ERR_NOT_FOUND', 'That transfer is no longer in the list');
    return j;
  }

  pause(id: string): void {
    const j = this.job(id);
    if (j.view.incoming)
      throw new FerryError('FERRY_ERR_UNSUPPORTED', 'A transfer started by the peer can be cancelled, not paused');
    if (j.view.state === 'queued') {
      j.view = { ...j.view, state: 'paused' };
      this.emitJob(j, true);
      return;
    }
    j.engine?.pause();
  }

  resume(id: string): void {
    const j = this.job(id);
    if (j.view.incoming)
      throw new FerryError('FERRY_ERR_UNSUPPORTED', 'Only the peer can restart a transfer it started');
    if (j.engine && !j.engine.ended) return;
    if (!['paused', 'failed', 'cancelled'].includes(j.view.state)) return;
    j.view = { ...j.view, state: 'queued' };
    delete j.view.error;
    this.queue.push(j);
    this.emitJob(j, true);
    this.pump();
  }

  /** Retry a failed or cancelled transfer: the engine resumes from the partial files it kept. */
  retry(id: string): void {
    this.resume(id);
  }

  cancel(id: string): void {
    const j = this.job(id);
    if (j.engine && !j.engine.ended && j.engine.cancel) {
      j.engine.cancel();
      return;
    }
    if (['queued', 'paused'].includes(j.view.state)) {
      j.engine = undefined;
      j.view = { ...j.view, state: 'cancelled' };
      this.emitJob(j, true);
    }
  }

  /** Forget finished transfers. */
  clearFinished(): void {
    for (const [id, j] of this.jobs) if (['done', 'failed', 'cancelled'].includes(j.view.state)) this.jobs.delete(id);
  }

  liveSnapshot(id: string): LiveSnapshot | null {
    return this.jobs.get(id)?.live.snapshot() ?? null;
  }

  private emitJob(job: Job, force: boolean): void {
    if (force) job.emitter.now();
    else job.emitter.soon();
  }

  private emitLive(job: Job, force: boolean): void {
    if (!this.host.wantsLive()) return;
    if (force) job.liver.now();
    else job.liver.soon();
  }

  /** Shutting down: nothing more is emitted; outgoing transfers pause (keeping partial files). */
  close(): void {
    for (const j of this.jobs.values()) {
      j.emitter.cancel();
      j.liver.cancel();
      if (j.engine && !j.engine.ended && !j.view.incoming) j.engine.pause?.();
    }
  }
}

/**
 * A refusal that came from the peer (it does not trust this device, or not for this) says so:
 * its own words speak of "this device" from its side.
 */
export function refusedBy<E>(err: E, peerName: string): E | FerryError {
  const info = err as Partial<ErrorInfo> | null;
  if (info?.code !== 'FERRY_ERR_NOT_TRUSTED' || typeof info.message !== 'string') return err;
  if (info.message.startsWith('Pair first') || info.message.startsWith(`${peerName} refused`)) return err;
  return new FerryError('FERRY_ERR_NOT_TRUSTED', `${peerName} refused: ${info.message}`, { cause: err });
}

function asInfo(e: ErrorInfo | FerryError): ErrorInfo {
  return e instanceof FerryError ? toErrorInfo(e) : e;
}
