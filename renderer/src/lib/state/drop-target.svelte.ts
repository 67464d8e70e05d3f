/**
 * A drop target for files from the desktop. dragenter and dragleave fire for every child the
 * pointer crosses, so a counter, not a flag, says whether the drag is still over the target.
 */
import { dragHasFiles } from '../drop.js';

export class DropTarget {
  #depth = 0;
  #active = $state(false);
  readonly #onDrop: (dt: DataTransfer) => void;

  constructor(onDrop: (dt: DataTransfer) => void) {
    this.#onDrop = onDrop;
  }

  get active(): boolean {
    return this.#active;
  }

  enter = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    this.#depth++;
    this.#active = true;
  };

  over = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    // Without this the browser refuses the drop.
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  };

  leave = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    this.#depth = Math.max(0, this.#depth - 1);
    if (this.#depth === 0) this.#active = false;
  };

  drop = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    // A drop on a target nested in another target is that target's alone.
    e.stopPropagation();
    this.#depth = 0;
    this.#active = false;
    if (e.dataTransfer) this.#onDrop(e.dataTransfer);
  };
}
