/**
 * Live data of transfers, outside Svelte's reactivity: the 'live' event writes here and the
 * canvas loop reads here each frame. It keeps the latest snapshot per transfer (decoded only
 * when drawn, and only once per version) and a ring of throughput samples per socket.
 */
import type { LiveSnapshot } from '../../../../shared/contract.js';
import type { SocketInfo } from '../../../../shared/events.js';
import { decodeBase64 } from './blocks.js';
import type { BlockMapData } from './draw-block-map.js';
import type { LaneData } from './draw-socket-lanes.js';
import { socketColor } from './palette.js';

/** A fixed-size ring of numbers. */
export class Ring {
  readonly #values: Float64Array;
  #start = 0;
  #length = 0;

  constructor(capacity: number) {
    this.#values = new Float64Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.#length;
  }

  push(v: number): void {
    const cap = this.#values.length;
    if (this.#length < cap) {
      this.#values[(this.#start + this.#length) % cap] = v;
      this.#length++;
    } else {
      this.#values[this.#start] = v;
      this.#start = (this.#start + 1) % cap;
    }
  }

  /** The samples, oldest first. */
  values(): Float64Array {
    const out = new Float64Array(this.#length);
    const cap = this.#values.length;
    for (let i = 0; i < this.#length; i++) out[i] = this.#values[(this.#start + i) % cap]!;
    return out;
  }
}

interface Entry {
  snapshot: LiveSnapshot;
  version: number;
  history: Map<number, Ring>;
  /** Decoded blocks of `decodedVersion`. */
  decoded: BlockMapData | undefined;
  decodedVersion: number;
}

/** Throughput samples kept per socket: one per live event, about four seconds at LIVE_HZ. */
export const HISTORY_SAMPLES = 60;

export class LiveBuffer {
  readonly #entries = new Map<string, Entry>();

  push(snapshot: LiveSnapshot): void {
    let e = this.#entries.get(snapshot.id);
    if (!e) {
      e = { snapshot, version: 0, history: new Map(), decoded: undefined, decodedVersion: -1 };
      this.#entries.set(snapshot.id, e);
    }
    e.snapshot = snapshot;
    e.version++;
    for (const s of snapshot.sockets) {
      let ring = e.history.get(s.id);
      if (!ring) e.history.set(s.id, (ring = new Ring(HISTORY_SAMPLES)));
      ring.push(s.state === 'open' ? s.bytesPerSecond : 0);
    }
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Changes each time a snapshot for `id` arrives; -1 when there is none. */
  version(id: string): number {
    return this.#entries.get(id)?.version ?? -1;
  }

  blocks(id: string): BlockMapData | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (e.decodedVersion !== e.version) {
      const blocks = decodeBase64(e.snapshot.blocks, e.decoded?.blocks).subarray(0, e.snapshot.totalBlocks);
      e.decoded = { blocks, carriers: new Map(e.snapshot.carriers) };
      e.decodedVersion = e.version;
    }
    return e.decoded;
  }

  sockets(id: string): SocketInfo[] {
    return this.#entries.get(id)?.snapshot.sockets ?? [];
  }

  lanes(id: string): LaneData[] {
    const e = this.#entries.get(id);
    if (!e) return [];
    return e.snapshot.sockets.map((s) => ({
      id: s.id,
      open: s.state === 'open',
      color: socketColor(s.id),
      history: e.history.get(s.id)?.values() ?? new Float64Array(0),
    }));
  }

  forget(id: string): void {
    this.#entries.delete(id);
  }
}
