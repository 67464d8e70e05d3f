/**
 * Uploads waiting for the person: a paired peer without "send without asking" offers files,
 * and the UI shows their names and total size with Accept and Decline. Nobody answering within
 * the time given counts as declined (and the UI is told it expired).
 */
import type { UploadRequestView } from '../../../shared/contract.js';
import { UPLOAD_REQUEST_FILES } from '../../../shared/contract.js';
import { FerryError } from '../../../shared/errors.js';
import type { IncomingUpload } from '../server.js';

interface Entry {
  view: UploadRequestView;
  upload: IncomingUpload;
  timer: NodeJS.Timeout;
}

let nextRequest = 1;

export class UploadRequests {
  private readonly waiting = new Map<string, Entry>();

  constructor(
    private readonly emit: (view: UploadRequestView) => void,
    private readonly timeoutMs: number,
  ) {}

  /** Show an upload; `peerName` is the name this device knows the peer by. */
  add(upload: IncomingUpload, peerName: string): void {
    const id = `up${nextRequest++}`;
    const view: UploadRequestView = {
      id,
      peerName,
      peerDeviceId: upload.peer.device,
      files: upload.files.slice(0, UPLOAD_REQUEST_FILES),
      fileCount: upload.files.length,
      totalBytes: upload.totalBytes,
      expiresAt: Date.now() + this.timeoutMs,
      state: 'waiting',
    };
    const timer = setTimeout(() => this.settle(id, 'expired'), this.timeoutMs);
    timer.unref();
    this.waiting.set(id, { view, upload, timer });
    this.emit({ ...view, files: [...view.files] });
  }

  answer(id: string, accept: boolean): void {
    if (!this.waiting.has(id)) {
      throw new FerryError(
        'FERRY_ERR_NOT_FOUND',
        'That upload is no longer waiting for an answer: it was answered already, or it expired and was declined.',
      );
    }
    this.settle(id, accept ? 'accepted' : 'declined');
  }

  list(): UploadRequestView[] {
    return [...this.waiting.values()].map((e) => ({ ...e.view, files: [...e.view.files] }));
  }

  /** Shutting down: decline everything still waiting. */
  close(): void {
    for (const [id, e] of [...this.waiting]) {
      clearTimeout(e.timer);
      this.waiting.delete(id);
      e.upload.decline();
    }
  }

  private settle(id: string, state: 'accepted' | 'declined' | 'expired'): void {
    const e = this.waiting.get(id);
    if (!e) return;
    this.waiting.delete(id);
    clearTimeout(e.timer);
    if (state === 'accepted') e.upload.accept();
    else e.upload.decline();
    this.emit({ ...e.view, files: [...e.view.files], state });
  }
}
