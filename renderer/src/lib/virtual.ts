/** The rows a virtualised list renders: the visible ones plus a few either side. */

/** Row height of the file list, pixels (app.css --row says the same). */
export const ROW_HEIGHT = 28;

export interface RowWindow {
  start: number;
  /** Exclusive. */
  end: number;
  /** Pixels above the first rendered row. */
  offset: number;
}

export function visibleRows(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  count: number,
  overscan = 6,
): RowWindow {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, Math.min(count - 1, first) - overscan);
  const end = Math.min(count, first + Math.ceil(Math.max(0, viewport) / rowHeight) + 1 + overscan);
  return { start, end, offset: start * rowHeight };
}

/** The scrollTop that brings row `index` into view, or the current one if it is visible. */
export function scrollToRow(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return top + rowHeight - viewport;
  return scrollTop;
}
