/** A 2D context stand-in that records what is drawn, for the pure drawing functions. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
  style: string;
}

export class RecordingContext {
  fillStyle = '#000';
  strokeStyle = '#000';
  lineWidth = 1;
  globalAlpha = 1;
  readonly rects: Rect[] = [];
  readonly clears: number[][] = [];
  readonly strokes: { style: string; alpha: number; points: [number, number][] }[] = [];
  transforms = 0;
  #path: [number, number][] = [];

  fillRect(x: number, y: number, w: number, h: number): void {
    this.rects.push({ x, y, w, h, style: this.fillStyle });
  }
  clearRect(x: number, y: number, w: number, h: number): void {
    this.clears.push([x, y, w, h]);
  }
  beginPath(): void {
    this.#path = [];
  }
  moveTo(x: number, y: number): void {
    this.#path.push([x, y]);
  }
  lineTo(x: number, y: number): void {
    this.#path.push([x, y]);
  }
  stroke(): void {
    this.strokes.push({ style: this.strokeStyle, alpha: this.globalAlpha, points: this.#path });
  }
  setTransform(): void {
    this.transforms++;
  }

  /** Colour of the pixel at (x, y): the last rect drawn over it, or null. */
  colorAt(x: number, y: number): string | null {
    for (let i = this.rects.length - 1; i >= 0; i--) {
      const r = this.rects[i]!;
      if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h) return r.style;
    }
    return null;
  }

  reset(): void {
    this.rects.length = 0;
    this.clears.length = 0;
    this.strokes.length = 0;
  }
}
