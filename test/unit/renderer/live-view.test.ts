/** The live view: block map attributes per frame, socket lanes, and the loop's life. */
import { render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { BLOCK_VERIFIED } from '../../../shared/contract.js';
import LiveView from '../../../renderer/src/components/LiveView.svelte';
import { BLOCK_COLORS } from '../../../renderer/src/lib/live/palette.js';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { snapshot, startedBridge, transfer } from './fixtures.js';
import { ManualFrames } from './manual-frames.js';
import { RecordingContext } from './recording-context.js';

const socket = (id: number, bytesSent: number) => ({
  id,
  local: `127.0.0.1:${5000 + id}`,
  remote: '127.0.0.1:7200',
  state: 'open' as const,
  bytesInFlight: 4096,
  bytesSent,
  bytesReceived: 0,
  bytesPerSecond: 1e6,
});

async function setup() {
  const bridge = startedBridge(
    'web',
    { 'live.get': ({ id }) => snapshot(id, [2, 1, 0, 0], { sockets: [socket(1, 10)], carriers: [[1, 1]] }) },
    { transfers: [transfer({ id: 'j1' })] },
  );
  const app = new AppState(bridge);
  await app.start();
  const frames = new ManualFrames();
  const contexts: RecordingContext[] = [];
  const view = render(LiveView, {
    props: {
      app,
      frames,
      ratio: () => 1,
      context: () => {
        const ctx = new RecordingContext();
        contexts.push(ctx);
        return ctx as unknown as CanvasRenderingContext2D;
      },
    },
  });
  return { app, bridge, frames, contexts, view };
}

describe('LiveView', () => {
  it("loads the running transfer's picture and keeps data-blocks / data-verified current frame by frame", async () => {
    const { bridge, frames, contexts } = await setup();
    await waitFor(() => expect(bridge.callsOf('live.get')).toEqual([{ id: 'j1' }]));
    const map = screen.getByTestId('block-map');
    frames.frame(0);
    expect(map.dataset.blocks).toBe('4');
    expect(map.dataset.verified).toBe('1');
    bridge.emit('live', snapshot('j1', [2, 2, 2, 1], { sockets: [socket(1, 5000), socket(2, 7000)] }));
    // Nothing is drawn between frames: the event only fills the buffer.
    expect(map.dataset.verified).toBe('1');
    frames.frame(20);
    expect(map.dataset.verified).toBe('3');
    // The map context drew cells (jsdom's canvas has no size here, so no cells; the clear is there).
    expect(contexts[0]!.clears.length).toBeGreaterThan(0);
    await waitFor(() => expect(screen.getAllByTestId('socket-lane')).toHaveLength(2));
    expect(screen.getAllByTestId('socket-lane').map((l) => [l.dataset.socketId, l.dataset.bytesSent])).toEqual([
      ['1', '5000'],
      ['2', '7000'],
    ]);
    expect(screen.getAllByTestId('socket-lane')[0]!.textContent).toContain('127.0.0.1:5001 → 127.0.0.1:7200');
  });

  it('skips frames when nothing changed, draws cells once the canvas has a size', async () => {
    const { frames, contexts } = await setup();
    const map = screen.getByTestId('block-map');
    Object.defineProperty(map, 'clientWidth', { value: 40, configurable: true });
    Object.defineProperty(map, 'clientHeight', { value: 10, configurable: true });
    await waitFor(() => expect(map.dataset.blocks).toBeDefined());
    frames.frame(0);
    const ctx = contexts[0]!;
    await waitFor(() => {
      frames.frame(performance.now());
      expect(map.dataset.blocks).toBe('4');
    });
    expect(ctx.rects.some((r) => r.style === BLOCK_COLORS[BLOCK_VERIFIED])).toBe(true);
    const drawn = ctx.rects.length;
    frames.frame(performance.now() + 1000);
    frames.frame(performance.now() + 2000);
    expect(ctx.rects.length, 'no new snapshot, no redraw').toBe(drawn);
  });

  it('stops its frame loop while the page is hidden and when it goes away', async () => {
    const { frames, view } = await setup();
    expect(frames.pending).toBe(1);
    frames.setHidden(true);
    expect(frames.pending).toBe(0);
    frames.setHidden(false);
    expect(frames.pending).toBe(1);
    view.unmount();
    expect(frames.pending).toBe(0);
    expect(frames.listeners).toBe(0);
  });
});
