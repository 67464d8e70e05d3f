/**
 * Socket lanes in words: open while the transfer runs, closed (no speed, bytes moved) once it
 * has ended or the engine says the socket closed. Regression: a Done transfer's lanes kept
 * showing the last speed they measured ("34 MiB/s").
 */
import { render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { SocketInfo } from '../../../shared/events.js';
import LiveView from '../../../renderer/src/components/LiveView.svelte';
import SocketLanes from '../../../renderer/src/components/SocketLanes.svelte';
import { laneWords, shownLanes } from '../../../renderer/src/lib/live/lanes.js';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { snapshot, startedBridge, transfer } from './fixtures.js';
import { ManualFrames } from './manual-frames.js';
import { RecordingContext } from './recording-context.js';

const MiB = 1024 * 1024;
const socket = (over: Partial<SocketInfo> = {}): SocketInfo => ({
  id: 1,
  local: '127.0.0.1:5001',
  remote: '127.0.0.1:7200',
  state: 'open',
  bytesInFlight: 4096,
  bytesSent: 30 * MiB,
  bytesReceived: 0,
  bytesPerSecond: 34 * MiB,
  ...over,
});

describe('laneWords', () => {
  it('gives speed and bytes in flight only while the transfer runs and the socket is open', () => {
    expect(laneWords(socket(), true)).toEqual({ state: 'open', speed: '34 MiB/s', detail: '4.0 KiB in flight' });
    expect(laneWords(socket(), false)).toEqual({ state: 'closed', speed: '—', detail: 'closed, 30 MiB moved' });
    expect(laneWords(socket({ state: 'closed' }), true)).toEqual({
      state: 'closed',
      speed: '—',
      detail: 'closed, 30 MiB moved',
    });
  });

  it('closes every lane to draw once the transfer has ended', () => {
    const lanes = [{ id: 1, open: true, color: '#000', history: [5] }];
    expect(shownLanes(lanes, true)).toBe(lanes);
    expect(shownLanes(lanes, false).map((l) => l.open)).toEqual([false]);
  });
});

describe('SocketLanes', () => {
  it("shows a finished transfer's sockets closed, with no speed", async () => {
    const view = render(SocketLanes, {
      props: { sockets: [socket(), socket({ id: 2, state: 'closed' })], active: true },
    });
    const lanes = () => screen.getAllByTestId('socket-lane');
    expect(lanes().map((l) => l.dataset.state)).toEqual(['open', 'closed']);
    expect(lanes()[0]!.textContent).toContain('34 MiB/s');
    await view.rerender({ sockets: [socket(), socket({ id: 2, state: 'closed' })], active: false });
    expect(lanes().map((l) => l.dataset.state)).toEqual(['closed', 'closed']);
    expect(screen.getAllByTestId('socket-speed').map((s) => s.textContent)).toEqual(['—', '—']);
    expect(lanes()[0]!.textContent).not.toContain('MiB/s');
    expect(lanes()[0]!.textContent).toContain('30 MiB moved');
    // What the e2e tests sample stays: the socket and its bytes.
    expect(lanes()[0]!.dataset.bytesSent).toBe(String(30 * MiB));
  });
});

describe('LiveView lanes', () => {
  it('closes the lanes, in words and on the canvas, when the transfer ends with no snapshot after', async () => {
    const bridge = startedBridge(
      'web',
      { 'live.get': ({ id }) => snapshot(id, [2, 1], { sockets: [socket()] }) },
      { transfers: [transfer({ id: 'j1' })] },
    );
    const app = new AppState(bridge);
    await app.start();
    const frames = new ManualFrames();
    const contexts: RecordingContext[] = [];
    render(LiveView, {
      props: {
        app,
        frames,
        ratio: () => 1,
        context: (canvas) => {
          const ctx = new RecordingContext();
          Object.defineProperty(canvas, 'clientWidth', { value: 120, configurable: true });
          Object.defineProperty(canvas, 'clientHeight', { value: 28, configurable: true });
          contexts.push(ctx);
          return ctx as unknown as CanvasRenderingContext2D;
        },
      },
    });
    await waitFor(() => expect(screen.getAllByTestId('socket-lane')).toHaveLength(1));
    const lanesCtx = () => contexts[1]!;
    await waitFor(() => {
      frames.frame(performance.now());
      expect(lanesCtx().strokes.length).toBeGreaterThan(0);
    });
    expect(screen.getByTestId('socket-lane').dataset.state).toBe('open');
    expect(lanesCtx().strokes.at(-1)!.alpha).toBe(1);

    bridge.emit('transfer', transfer({ id: 'j1', state: 'done', bytesDone: 1000 }));
    await waitFor(() => expect(screen.getByTestId('socket-lane').dataset.state).toBe('closed'));
    expect(screen.getByTestId('socket-speed').textContent).toBe('—');
    lanesCtx().reset();
    frames.frame(performance.now() + 1000);
    const last = lanesCtx().strokes.at(-1)!;
    expect(last.alpha, 'the lane is redrawn dimmed').toBeLessThan(1);
    expect(last.points.at(-1)![1], 'and ends on its floor (zero)').toBe(25);
  });
});
