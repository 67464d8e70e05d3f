/**
 * The block map: one cell per block, coloured by state; blocks in flight take the colour of the
 * socket carrying them. When there are more blocks than cells fit (a 100,000-block file on a
 * few hundred pixels), each cell stands for a run of blocks and shows the most telling state
 * among them (STATE_RANK). Pure: it draws on the context it is given and returns what it saw,
 * so tests call it with a recording context.
 */
import { BLOCK_FAILED, BLOCK_INFLIGHT, BLOCK_PENDING } from '../../../../shared/contract.js';
import { isDone, STATE_RANK } from './blocks.js';
import { BLOCK_COLORS, socketColor } from './palette.js';

/** The part of CanvasRenderingContext2D the map uses. */
export type BlockMapContext = Pick<CanvasRenderingContext2D, 'fillStyle' | 'fillRect' | 'clearRect'>;

export interface BlockMapData {
  /** One byte per block, BLOCK_* states. */
  blocks: Uint8Array;
  /** In-flight block index -> socket id. */
  carriers: ReadonlyMap<number, number>;
}

export interface BlockMapSize {
  width: number;
  height: number;
  /** Largest and smallest cell, CSS pixels (defaults 14 and 2). */
  maxCell?: number;
  minCell?: number;
}

export interface BlockMapLayout {
  /** Cell size and the gap inside it, pixels. */
  cell: number;
  gap: number;
  cols: number;
  /** Cells drawn, and blocks per cell (1 unless merged). */
  cells: number;
  perCell: number;
}

export interface BlockMapStats extends BlockMapLayout {
  total: number;
  verified: number;
  fillRects: number;
}

export function layoutBlockMap(total: number, size: BlockMapSize): BlockMapLayout {
  const w = Math.max(0, Math.floor(size.width));
  const h = Math.max(0, Math.floor(size.height));
  const maxCell = size.maxCell ?? 14;
  const minCell = Math.max(1, size.minCell ?? 2);
  if (total <= 0 || w < minCell || h < minCell) return { cell: minCell, gap: 0, cols: 0, cells: 0, perCell: 1 };
  let cell = Math.max(minCell, Math.min(maxCell, Math.floor(Math.sqrt((w * h) / total))));
  while (cell > minCell && Math.floor(w / cell) * Math.floor(h / cell) < total) cell--;
  const cols = Math.floor(w / cell);
  const capacity = cols * Math.floor(h / cell);
  const perCell = Math.max(1, Math.ceil(total / capacity));
  // A gap between cells while they are big enough to read one by one.
  const gap = cell >= 5 ? 1 : 0;
  return { cell, gap, cols, cells: Math.ceil(total / perCell), perCell };
}

/**
 * The height the map needs at `width`: rows of the largest cells for `total` blocks, between
 * `min` and `max`. A 50-block transfer gets two rows, not a mostly empty box; a big one gets
 * `max`, and smaller cells (layoutBlockMap).
 */
export function blockMapHeight(
  total: number,
  width: number,
  opts: { maxCell?: number; min?: number; max?: number } = {},
): number {
  const maxCell = opts.maxCell ?? 14;
  const min = opts.min ?? 2 * maxCell;
  const max = Math.max(min, opts.max ?? 120);
  const cols = Math.floor(Math.max(0, width) / maxCell);
  if (total <= 0 || cols <= 0) return min;
  return Math.max(min, Math.min(max, Math.ceil(total / cols) * maxCell));
}

export function drawBlockMap(ctx: BlockMapContext, data: BlockMapData, size: BlockMapSize): BlockMapStats {
  const { blocks, carriers } = data;
  const total = blocks.length;
  const layout = layoutBlockMap(total, size);
  const { cell, gap, cols, cells, perCell } = layout;
  ctx.clearRect(0, 0, size.width, size.height);
  let fillRects = 0;
  let verified = 0;
  for (let i = 0; i < total; i++) if (isDone(blocks[i]!)) verified++;

  // Runs of same-coloured cells along a row are one rectangle when cells touch (no gap).
  let runColor = '';
  let runRow = -1;
  let runStart = 0;
  let runEnd = 0;
  let style = '';
  const flush = () => {
    if (runEnd <= runStart) return;
    if (style !== runColor) ctx.fillStyle = style = runColor;
    ctx.fillRect(runStart * cell, runRow * cell, (runEnd - runStart) * cell - gap, cell - gap);
    fillRects++;
  };
  for (let c = 0; c < cells; c++) {
    const first = c * perCell;
    const last = Math.min(total, first + perCell);
    let state = blocks[first] ?? BLOCK_PENDING;
    for (let b = first + 1; b < last && state !== BLOCK_FAILED; b++) {
      const s = blocks[b]!;
      if ((STATE_RANK[s] ?? 0) > (STATE_RANK[state] ?? 0)) state = s;
    }
    let color = BLOCK_COLORS[state] ?? BLOCK_COLORS[BLOCK_PENDING]!;
    if (state === BLOCK_INFLIGHT) {
      for (let b = first; b < last; b++) {
        const socket = blocks[b] === BLOCK_INFLIGHT ? carriers.get(b) : undefined;
        if (socket !== undefined) {
          color = socketColor(socket);
          break;
        }
      }
    }
    const row = Math.floor(c / cols);
    const col = c % cols;
    if (gap === 0 && color === runColor && row === runRow && col === runEnd) {
      runEnd++;
      continue;
    }
    flush();
    runColor = color;
    runRow = row;
    runStart = col;
    runEnd = col + 1;
  }
  flush();
  return { ...layout, total, verified, fillRects };
}
