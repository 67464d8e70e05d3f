/**
 * Socket lanes: one horizontal lane per socket with a sparkline of its throughput, newest
 * sample on the right, all lanes on one scale so a slow socket looks slow. The lane's words
 * (addresses, state, bytes in flight) are in the DOM beside it; this draws only the lines.
 */
export type LaneContext = Pick<
  CanvasRenderingContext2D,
  | 'fillStyle'
  | 'strokeStyle'
  | 'lineWidth'
  | 'globalAlpha'
  | 'clearRect'
  | 'fillRect'
  | 'beginPath'
  | 'moveTo'
  | 'lineTo'
  | 'stroke'
>;

export interface LaneData {
  id: number;
  open: boolean;
  color: string;
  /** Bytes per second, oldest first. */
  history: ArrayLike<number>;
}

export interface LaneSize {
  width: number;
  height: number;
  /** Samples across the width (default 60). */
  samples?: number;
}

/** The largest sample of all lanes, the top of the shared scale (at least 1). */
export function laneScale(lanes: readonly LaneData[]): number {
  let max = 1;
  for (const lane of lanes) for (let i = 0; i < lane.history.length; i++) max = Math.max(max, lane.history[i]!);
  return max;
}

export function drawSocketLanes(ctx: LaneContext, lanes: readonly LaneData[], size: LaneSize): void {
  ctx.clearRect(0, 0, size.width, size.height);
  if (lanes.length === 0) return;
  const laneHeight = size.height / lanes.length;
  const samples = Math.max(2, size.samples ?? 60);
  const step = size.width / (samples - 1);
  const max = laneScale(lanes);
  ctx.lineWidth = 1.5;
  lanes.forEach((lane, i) => {
    const top = i * laneHeight;
    const bottom = top + laneHeight - 3;
    const usable = laneHeight - 6;
    const alpha = lane.open ? 1 : 0.35;
    // The lane's floor, so an idle socket still shows as a lane.
    ctx.fillStyle = lane.color;
    ctx.globalAlpha = alpha * 0.25;
    ctx.fillRect(0, bottom, size.width, 1);
    ctx.globalAlpha = alpha;
    // A closed lane ends at zero: its last measured speed is not its speed now.
    const history = lane.history;
    const length = history.length + (lane.open || history.length === 0 ? 0 : 1);
    const n = Math.min(length, samples);
    if (n === 0) return;
    const from = length - n;
    const x0 = size.width - (n - 1) * step;
    ctx.strokeStyle = lane.color;
    ctx.beginPath();
    for (let k = 0; k < n; k++) {
      const j = from + k;
      const y = bottom - ((j < history.length ? history[j]! : 0) / max) * usable;
      if (k === 0) ctx.moveTo(x0, y);
      else ctx.lineTo(x0 + k * step, y);
    }
    ctx.stroke();
  });
  ctx.globalAlpha = 1;
}
