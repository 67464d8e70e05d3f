/** The frame loop's cap and visibility, and the live buffer behind it. */
import { describe, expect, it } from 'vitest';
import { FrameLoop } from '../../../renderer/src/lib/frames.js';
import { LiveBuffer, Ring } from '../../../renderer/src/lib/live/live-buffer.js';
import { snapshot } from './fixtures.js';
import { ManualFrames } from './manual-frames.js';

describe('FrameLoop', () => {
  it('draws at most 60 times a second on a faster display', () => {
    const frames = new ManualFrames();
    const drawn: number[] = [];
    const loop = new FrameLoop((t) => drawn.push(t), frames, 60);
    loop.start();
    // A 144 Hz display for one second.
    for (let i = 0; i <= 144; i++) frames.frame((i * 1000) / 144);
    expect(drawn.length).toBeGreaterThanOrEqual(55);
    expect(drawn.length).toBeLessThanOrEqual(61);
    loop.stop();
  });

  it('stops while the page is hidden and on stop, and forgets its listener', () => {
    const frames = new ManualFrames();
    let drawn = 0;
    const loop = new FrameLoop(() => drawn++, frames);
    loop.start();
    frames.frame(0);
    expect(drawn).toBe(1);
    frames.setHidden(true);
    expect(frames.pending).toBe(0);
    expect(loop.running).toBe(false);
    frames.setHidden(false);
    frames.frame(100);
    expect(drawn).toBe(2);
    loop.stop();
    expect(frames.pending).toBe(0);
    expect(frames.listeners).toBe(0);
    frames.frame(200);
    expect(drawn).toBe(2);
  });

  it('does not start while the page is hidden', () => {
    const frames = new ManualFrames();
    frames.hiddenNow = true;
    const loop = new FrameLoop(() => undefined, frames);
    loop.start();
    expect(frames.pending).toBe(0);
  });
});

describe('LiveBuffer', () => {
  it('decodes a snapshot once per version and keeps a throughput ring per socket', () => {
    const live = new LiveBuffer();
    const sock = (bps: number) => ({
      id: 4,
      local: 'a:1',
      remote: 'b:2',
      state: 'open' as const,
      bytesInFlight: 0,
      bytesSent: 0,
      bytesReceived: 0,
      bytesPerSecond: bps,
    });
    live.push(snapshot('t', [0, 2], { sockets: [sock(10)], carriers: [[0, 4]] }));
    const first = live.blocks('t');
    expect(live.blocks('t')).toBe(first); // same version: not decoded again
    expect(first?.carriers.get(0)).toBe(4);
    for (let i = 0; i < 70; i++) live.push(snapshot('t', [2, 2], { sockets: [sock(i)] }));
    expect(live.version('t')).toBe(71);
    expect(live.blocks('t')?.blocks).toEqual(Uint8Array.from([2, 2]));
    const [lane] = live.lanes('t');
    expect(lane!.history.length).toBe(60);
    expect(Array.from(lane!.history).slice(-3)).toEqual([67, 68, 69]);
    live.forget('t');
    expect(live.version('t')).toBe(-1);
  });

  it('Ring keeps the newest samples in order', () => {
    const r = new Ring(3);
    for (const v of [1, 2, 3, 4, 5]) r.push(v);
    expect(Array.from(r.values())).toEqual([3, 4, 5]);
  });
});
