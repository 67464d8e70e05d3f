/** The live view's pure drawing: block map cells and colours, merging, socket lanes. */
import { describe, expect, it } from 'vitest';
import {
  BLOCK_FAILED,
  BLOCK_INFLIGHT,
  BLOCK_PENDING,
  BLOCK_RETRIED,
  BLOCK_VERIFIED,
} from '../../../shared/contract.js';
import { decodeBase64 } from '../../../renderer/src/lib/live/blocks.js';
import { blockMapHeight, drawBlockMap, layoutBlockMap } from '../../../renderer/src/lib/live/draw-block-map.js';
import { drawSocketLanes, laneScale } from '../../../renderer/src/lib/live/draw-socket-lanes.js';
import { BLOCK_COLORS, socketColor } from '../../../renderer/src/lib/live/palette.js';
import { RecordingContext } from './recording-context.js';

const data = (states: number[], carriers: [number, number][] = []) => ({
  blocks: Uint8Array.from(states),
  carriers: new Map(carriers),
});

describe('decodeBase64', () => {
  it('decodes what Buffer encodes, at every length and byte value', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      expect(decodeBase64(Buffer.from(bytes).toString('base64')), `length ${n}`).toEqual(bytes);
    }
  });
});

describe('drawBlockMap', () => {
  it('draws one cell per block in the colour of its state', () => {
    const ctx = new RecordingContext();
    const states = [BLOCK_PENDING, BLOCK_VERIFIED, BLOCK_FAILED, BLOCK_RETRIED, BLOCK_INFLIGHT];
    const stats = drawBlockMap(ctx, data(states), { width: 100, height: 20, maxCell: 10 });
    expect(stats).toMatchObject({ cell: 10, gap: 1, cols: 10, cells: 5, perCell: 1, total: 5, verified: 2 });
    // In-flight without a known carrier keeps the generic in-flight colour.
    const expected = [
      BLOCK_COLORS[BLOCK_PENDING],
      BLOCK_COLORS[BLOCK_VERIFIED],
      BLOCK_COLORS[BLOCK_FAILED],
      BLOCK_COLORS[BLOCK_RETRIED],
      BLOCK_COLORS[BLOCK_INFLIGHT],
    ];
    expect(states.map((_, i) => ctx.colorAt(i * 10 + 4, 4))).toEqual(expected);
    expect(ctx.rects).toHaveLength(5);
    // A gap between cells while they are big.
    expect(ctx.rects[0]).toMatchObject({ x: 0, y: 0, w: 9, h: 9 });
    expect(ctx.clears).toEqual([[0, 0, 100, 20]]);
  });

  it('colours a block in flight by the socket carrying it', () => {
    const ctx = new RecordingContext();
    drawBlockMap(
      ctx,
      data(
        [BLOCK_INFLIGHT, BLOCK_INFLIGHT, BLOCK_INFLIGHT],
        [
          [0, 1],
          [1, 2],
          [2, 1],
        ],
      ),
      { width: 30, height: 10, maxCell: 10 },
    );
    expect([5, 15, 25].map((x) => ctx.colorAt(x, 5))).toEqual([socketColor(1), socketColor(2), socketColor(1)]);
    expect(socketColor(1)).not.toBe(socketColor(2));
  });

  it('merges blocks into cells when there are more blocks than pixels, each cell showing its most telling state', () => {
    const ctx = new RecordingContext();
    // 40 blocks on a 10x1 strip of 1-pixel cells: 4 blocks per cell.
    const states = new Array<number>(40).fill(BLOCK_PENDING);
    for (let i = 0; i < 8; i++) states[i] = BLOCK_VERIFIED; // cells 0, 1: all verified
    states[9] = BLOCK_VERIFIED; // cell 2: one verified of four -> verified
    states[13] = BLOCK_INFLIGHT; // cell 3: in flight beats verified and pending
    states[12] = BLOCK_VERIFIED;
    states[17] = BLOCK_FAILED; // cell 4: failed beats in flight
    states[18] = BLOCK_INFLIGHT;
    states[21] = BLOCK_RETRIED; // cell 5: retried beats verified
    states[22] = BLOCK_VERIFIED;
    const stats = drawBlockMap(ctx, data(states, [[13, 3]]), { width: 10, height: 1, minCell: 1 });
    expect(stats).toMatchObject({ cell: 1, gap: 0, cols: 10, perCell: 4, cells: 10, verified: 12 });
    const cellColors = Array.from({ length: 10 }, (_, c) => ctx.colorAt(c, 0));
    expect(cellColors).toEqual([
      BLOCK_COLORS[BLOCK_VERIFIED],
      BLOCK_COLORS[BLOCK_VERIFIED],
      BLOCK_COLORS[BLOCK_VERIFIED],
      socketColor(3),
      BLOCK_COLORS[BLOCK_FAILED],
      BLOCK_COLORS[BLOCK_RETRIED],
      BLOCK_COLORS[BLOCK_PENDING],
      BLOCK_COLORS[BLOCK_PENDING],
      BLOCK_COLORS[BLOCK_PENDING],
      BLOCK_COLORS[BLOCK_PENDING],
    ]);
    // Touching cells of one colour are one rectangle: verified x3, carrier, failed, retried, pending x4.
    expect(ctx.rects).toHaveLength(5);
  });

  it('draws 100,000 blocks in a bounded number of calls', () => {
    const ctx = new RecordingContext();
    const total = 100_000;
    const states = new Uint8Array(total);
    // Half done, a scatter of blocks in flight on four sockets, a few failures: a busy picture.
    states.fill(BLOCK_VERIFIED, 0, total / 2);
    const carriers: [number, number][] = [];
    for (let i = total / 2; i < total / 2 + 400; i += 3) {
      states[i] = BLOCK_INFLIGHT;
      carriers.push([i, i % 4]);
    }
    for (let i = 0; i < 50; i++) states[total / 2 + 1000 + i * 97] = BLOCK_FAILED;
    const size = { width: 600, height: 120 };
    const t0 = performance.now();
    const stats = drawBlockMap(ctx, { blocks: states, carriers: new Map(carriers) }, size);
    const ms = performance.now() - t0;
    const layout = layoutBlockMap(total, size);
    expect(stats.perCell).toBeGreaterThan(1);
    expect(stats.cells).toBeLessThanOrEqual((600 / layout.cell) * (120 / layout.cell));
    expect(stats.verified).toBe(total / 2);
    // Far fewer calls than blocks: runs of a colour along each row are one rectangle.
    expect(ctx.rects.length).toBe(stats.fillRects);
    expect(ctx.rects.length).toBeLessThan(2_000);
    expect(ms).toBeLessThan(200);
    // Every drawn rectangle stays inside the canvas.
    for (const r of ctx.rects) {
      expect(r.x + r.w).toBeLessThanOrEqual(600);
      expect(r.y + r.h).toBeLessThanOrEqual(120);
    }
  });

  it('uses the whole area for the cells it has, and draws nothing for no blocks', () => {
    expect(layoutBlockMap(10, { width: 200, height: 40, maxCell: 14 })).toMatchObject({ cell: 14, perCell: 1 });
    expect(layoutBlockMap(2000, { width: 200, height: 40 })).toMatchObject({ cell: 2, perCell: 1, cols: 100 });
    expect(layoutBlockMap(2001, { width: 200, height: 40 })).toMatchObject({ cell: 2, perCell: 2 });
    const ctx = new RecordingContext();
    expect(drawBlockMap(ctx, data([]), { width: 100, height: 100 })).toMatchObject({ total: 0, cells: 0 });
    expect(ctx.rects).toHaveLength(0);
  });
});

describe('drawSocketLanes', () => {
  it('draws one sparkline per lane on one scale, newest sample at the right edge', () => {
    const ctx = new RecordingContext();
    const lanes = [
      { id: 1, open: true, color: socketColor(1), history: [0, 50, 100] },
      { id: 2, open: false, color: socketColor(2), history: [25] },
      { id: 3, open: true, color: socketColor(3), history: [] },
    ];
    expect(laneScale(lanes)).toBe(100);
    drawSocketLanes(ctx, lanes, { width: 59, height: 90, samples: 60 });
    expect(ctx.strokes).toHaveLength(2);
    const [a, b] = ctx.strokes;
    expect(a!.style).toBe(socketColor(1));
    expect(a!.points.map((p) => p[0])).toEqual([57, 58, 59]);
    // Lane 1 spans y 0..30: the peak touches the top of its usable band, zero sits on its floor.
    expect(a!.points[2]![1]).toBeLessThan(a!.points[0]![1]);
    expect(a!.points[0]![1]).toBe(27);
    expect(b!.alpha).toBeLessThan(1); // a closed socket is dimmed
    expect(b!.points[0]![1]).toBeGreaterThan(30); // and drawn in its own lane
    expect(ctx.rects.filter((r) => r.h === 1)).toHaveLength(3); // every lane has a floor line
  });

  // Regression: a finished transfer's lanes kept showing their last speed ("34 MiB/s" beside Done).
  it('ends a closed lane at zero, dimmed, whatever its last sample was', () => {
    const ctx = new RecordingContext();
    const history = [10, 80, 100];
    drawSocketLanes(ctx, [{ id: 1, open: true, color: socketColor(1), history }], {
      width: 59,
      height: 30,
      samples: 60,
    });
    const open = ctx.strokes[0]!;
    ctx.reset();
    drawSocketLanes(ctx, [{ id: 1, open: false, color: socketColor(1), history }], {
      width: 59,
      height: 30,
      samples: 60,
    });
    const closed = ctx.strokes[0]!;
    // One 30 px lane: zero sits on its floor at y 27, the peak at the top of its band, y 3.
    expect(open.points.at(-1), 'an open lane ends at its last speed').toEqual([59, 3]);
    expect(closed.points).toHaveLength(4);
    expect(closed.points.at(-1), 'a closed lane ends at zero, at the right edge').toEqual([59, 27]);
    expect(
      closed.points.slice(0, 3).map((p) => p[1]),
      'its history stays, moved left by one',
    ).toEqual(open.points.map((p) => p[1]));
    expect(closed.alpha).toBeLessThan(open.alpha);
  });
});

describe('blockMapHeight', () => {
  it('is as tall as the rows of full-size cells need, between its bounds', () => {
    expect(blockMapHeight(0, 600)).toBe(28);
    expect(blockMapHeight(50, 600)).toBe(28); // 42 a row: two rows
    expect(blockMapHeight(128, 602)).toBe(42); // 43 a row: three rows
    expect(blockMapHeight(100_000, 600)).toBe(120);
    expect(blockMapHeight(10, 0)).toBe(28);
    // And the layout at that height fits every block, in cells of full size while they fit.
    const h = blockMapHeight(128, 602);
    expect(layoutBlockMap(128, { width: 602, height: h })).toMatchObject({ cell: 14, perCell: 1 });
  });
});
