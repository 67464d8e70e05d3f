/**
 * The live picture of one transfer, kept as plain bytes (one per block) and maps, never as
 * reactive state: block events update it in O(1) and the UI gets a coalesced snapshot.
 */
import {
  BLOCK_FAILED,
  BLOCK_INFLIGHT,
  BLOCK_RETRIED,
  BLOCK_VERIFIED,
  type LiveFile,
  type LiveSnapshot,
} from '../../../shared/contract.js';
import type { BlockEvent, FileEvent, SocketInfo, TransferFileInfo } from '../../../shared/events.js';

export class LiveState {
  private files: LiveFile[] = [];
  private readonly byIndex = new Map<number, LiveFile>();
  private blocks = new Uint8Array(0);
  private readonly carriers = new Map<number, number>();
  private readonly sockets = new Map<number, SocketInfo>();

  constructor(readonly id: string) {}

  setFiles(infos: TransferFileInfo[]): void {
    let first = 0;
    this.files = infos.map((f) => {
      const lf: LiveFile = { index: f.index, path: f.path, firstBlock: first, blocks: f.blocks, state: 'queued' };
      first += f.blocks;
      return lf;
    });
    this.byIndex.clear();
    for (const f of this.files) this.byIndex.set(f.index, f);
    this.blocks = new Uint8Array(first);
    this.carriers.clear();
  }

  block(e: BlockEvent): void {
    const f = this.byIndex.get(e.file);
    if (!f || e.block >= f.blocks) return;
    const i = f.firstBlock + e.block;
    const prev = this.blocks[i];
    switch (e.state) {
      case 'inflight':
        this.blocks[i] = BLOCK_INFLIGHT;
        if (e.socket !== undefined) this.carriers.set(i, e.socket);
        break;
      case 'verified':
        this.blocks[i] = prev === BLOCK_FAILED || (e.retries ?? 0) > 0 ? BLOCK_RETRIED : BLOCK_VERIFIED;
        this.carriers.delete(i);
        break;
      case 'failed':
        this.blocks[i] = BLOCK_FAILED;
        this.carriers.delete(i);
        break;
      case 'pending':
        this.blocks[i] = 0;
        this.carriers.delete(i);
        break;
    }
  }

  file(e: FileEvent): void {
    const f = this.byIndex.get(e.index);
    if (!f) return;
    f.state = e.state;
    if (e.state === 'skipped' || e.state === 'landed') {
      // A skipped or resumed file's blocks are all in place.
      for (let b = 0; b < f.blocks; b++) {
        const i = f.firstBlock + b;
        if (this.blocks[i] !== BLOCK_RETRIED) this.blocks[i] = BLOCK_VERIFIED;
        this.carriers.delete(i);
      }
    }
  }

  socket(s: SocketInfo): void {
    this.sockets.set(s.id, s);
  }

  snapshot(): LiveSnapshot {
    return {
      id: this.id,
      files: this.files.map((f) => ({ ...f })),
      totalBlocks: this.blocks.length,
      blocks: Buffer.from(this.blocks.buffer, this.blocks.byteOffset, this.blocks.length).toString('base64'),
      carriers: [...this.carriers],
      sockets: [...this.sockets.values()],
    };
  }
}
