import type { FrameHost } from '../../../renderer/src/lib/platform.js';

/** Frames on demand: the test says when the display refreshes and whether the page is hidden. */
export class ManualFrames implements FrameHost {
  hiddenNow = false;
  #next = 1;
  readonly #queue = new Map<number, (t: number) => void>();
  readonly #visibility = new Set<() => void>();

  request(cb: (t: number) => void): number {
    const id = this.#next++;
    this.#queue.set(id, cb);
    return id;
  }
  cancel(id: number): void {
    this.#queue.delete(id);
  }
  hidden(): boolean {
    return this.hiddenNow;
  }
  onVisibilityChange(cb: () => void): () => void {
    this.#visibility.add(cb);
    return () => this.#visibility.delete(cb);
  }
  get pending(): number {
    return this.#queue.size;
  }
  get listeners(): number {
    return this.#visibility.size;
  }
  /** One display refresh at time `t`. */
  frame(t: number): void {
    const cbs = [...this.#queue.values()];
    this.#queue.clear();
    for (const cb of cbs) cb(t);
  }
  setHidden(hidden: boolean): void {
    this.hiddenNow = hidden;
    for (const cb of this.#visibility) cb();
  }
}
