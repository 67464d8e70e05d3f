/**
 * A requestAnimationFrame loop with a frame-rate cap that runs only while the page is visible
 * (runed's AnimationFrames, plus document.visibilitychange: a hidden window draws nothing).
 */
import type { FrameHost } from './platform.js';

export class FrameLoop {
  #host: FrameHost;
  #draw: (time: number) => void;
  #interval: number;
  #id: number | undefined;
  #last = -Infinity;
  #wanted = false;
  #unlisten: (() => void) | undefined;

  constructor(draw: (time: number) => void, host: FrameHost, fps = 60) {
    this.#draw = draw;
    this.#host = host;
    this.#interval = 1000 / fps;
  }

  get running(): boolean {
    return this.#id !== undefined;
  }

  start(): void {
    this.#wanted = true;
    this.#unlisten ??= this.#host.onVisibilityChange(() => this.#sync());
    this.#sync();
  }

  stop(): void {
    this.#wanted = false;
    this.#unlisten?.();
    this.#unlisten = undefined;
    this.#sync();
  }

  #sync(): void {
    const run = this.#wanted && !this.#host.hidden();
    if (run && this.#id === undefined) this.#id = this.#host.request(this.#tick);
    if (!run && this.#id !== undefined) {
      this.#host.cancel(this.#id);
      this.#id = undefined;
    }
  }

  #tick = (time: number): void => {
    this.#id = this.#host.request(this.#tick);
    const elapsed = time - this.#last;
    // 2 ms of slack: a 60 Hz display's frames arrive every 16.7 ms, give or take.
    if (elapsed < this.#interval - 2) return;
    // Step along an ideal 60 Hz grid (resynced after a stall): a 144 Hz display then gets close
    // to 60 draws a second, never more, rather than every third frame (48).
    this.#last = elapsed < 2 * this.#interval ? this.#last + this.#interval : time;
    this.#draw(time);
  };
}
