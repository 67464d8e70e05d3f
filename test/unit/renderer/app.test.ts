/** The whole window over a fake engine: it starts, shows errors in words, and the disconnected banner. */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import App from '../../../renderer/src/App.svelte';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { fail } from './fake-bridge.js';
import { peer, startedBridge, transfer } from './fixtures.js';

describe('App', () => {
  it('shows the device, peers and transfers, an error banner that can be dismissed, and a disconnected banner', async () => {
    const bridge = startedBridge(
      'web',
      { 'transfers.retry': () => fail('FERRY_ERR_UNREACHABLE', 'Nothing answers at 127.0.0.1:7200') },
      { peers: [peer()], transfers: [transfer({ state: 'failed' })] },
    );
    const app = new AppState(bridge);
    await app.start();
    render(App, { props: { app } });
    expect(screen.getByTestId('device-name').textContent).toBe('Alpha');
    expect(screen.getAllByTestId('peer-item')).toHaveLength(1);
    expect(screen.getAllByTestId('transfer-item')).toHaveLength(1);
    expect(screen.getByTestId('block-map')).toBeTruthy();
    expect(screen.queryByTestId('error-banner')).toBeNull();

    await fireEvent.click(screen.getByTestId('transfer-retry'));
    const banner = await screen.findByTestId('error-banner');
    expect(banner.textContent).toContain('Peer not reachable');
    expect(banner.textContent).toContain('Nothing answers at 127.0.0.1:7200');
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('error-banner')).toBeNull();

    bridge.setConnection('closed');
    await waitFor(() => expect(screen.getByTestId('disconnected-banner')).toBeTruthy());
    bridge.setConnection('open');
    await waitFor(() => expect(screen.queryByTestId('disconnected-banner')).toBeNull());
  });
});
