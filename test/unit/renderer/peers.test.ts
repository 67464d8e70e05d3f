/** The peer list: adding by address (checked first), offline reasons, removing after asking. */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import PeerList from '../../../renderer/src/components/PeerList.svelte';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { fail } from './fake-bridge.js';
import { peer, startedBridge } from './fixtures.js';

async function list(over: Parameters<typeof startedBridge>[1] = {}, peers = [peer()]) {
  const bridge = startedBridge('web', { 'peers.remove': () => null, ...over }, { peers });
  const app = new AppState(bridge);
  await app.start();
  render(PeerList, { props: { app } });
  return { app, bridge };
}

async function add(text: string) {
  await fireEvent.input(screen.getByTestId('peer-add-input'), { target: { value: text } });
  await fireEvent.click(screen.getByTestId('peer-add-button'));
}

describe('PeerList', () => {
  it('says what is wrong with an address before asking the engine', async () => {
    const { bridge } = await list();
    await add('nas.local');
    const msg = screen.getByTestId('peer-add-message');
    expect(msg.textContent).toContain('missing port');
    expect(msg.getAttribute('role')).toBe('alert');
    expect(screen.getByTestId('peer-add-input').getAttribute('aria-invalid')).toBe('true');
    await add('[::1:7000');
    expect(screen.getByTestId('peer-add-message').textContent).toContain('missing ]');
    await add('host:99999');
    expect(screen.getByTestId('peer-add-message').textContent).toContain('port out of range');
    expect(bridge.callsOf('peers.add')).toEqual([]);
    // Typing again clears the complaint.
    await fireEvent.input(screen.getByTestId('peer-add-input'), { target: { value: 'host:1' } });
    expect(screen.queryByTestId('peer-add-message')).toBeNull();
  });

  it('adds a reachable peer: it appears online, with its name, and the field empties', async () => {
    const charlie = peer({ id: 'p2', address: '10.0.0.3:7117', name: 'Charlie', online: true });
    const { bridge } = await list({ 'peers.add': () => charlie });
    await add(' 10.0.0.3:7117 ');
    await waitFor(() => expect(screen.getAllByTestId('peer-item')).toHaveLength(2));
    expect(bridge.callsOf('peers.add')).toEqual([{ address: '10.0.0.3:7117' }]);
    const item = screen.getAllByTestId('peer-item')[1]!;
    expect(item.dataset.peerAddress).toBe('10.0.0.3:7117');
    expect(item.dataset.online).toBe('true');
    expect(item.textContent).toContain('Charlie');
    expect(screen.getByTestId<HTMLInputElement>('peer-add-input').value).toBe('');
  });

  it('adds an unreachable peer as offline and says why, there and in the list', async () => {
    const error = { code: 'FERRY_ERR_UNREACHABLE' as const, message: 'Nothing answers at 10.9.9.9:7117: is Ferry running there?' };
    await list({ 'peers.add': () => peer({ id: 'p9', address: '10.9.9.9:7117', name: undefined, online: false, error }) }, []);
    await add('10.9.9.9:7117');
    await waitFor(() => expect(screen.getByTestId('peer-add-message').textContent).toContain('offline'));
    expect(screen.getByTestId('peer-add-message').textContent).toContain(error.message);
    const item = screen.getByTestId('peer-item');
    expect(item.dataset.online).toBe('false');
    expect(item.textContent).toContain('offline');
    expect(screen.getByTestId('peer-offline-reason').textContent).toContain('Peer not reachable');
    expect(screen.getByTestId('peer-offline-reason').textContent).toContain(error.message);
  });

  it('shows a refusal from the engine with its title', async () => {
    await list({ 'peers.add': () => fail('FERRY_ERR_BAD_ARGUMENT', '"x:1" is not a peer address (bad host name)') });
    await add('x:1');
    await waitFor(() => expect(screen.getByTestId('peer-add-message').textContent).toBe('Check what you entered: "x:1" is not a peer address (bad host name)'));
  });

  it('removes a peer only after the question is answered; Escape keeps it', async () => {
    const { bridge } = await list();
    await fireEvent.click(screen.getByTestId('peer-remove'));
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('Remove Bravo?');
    expect(document.activeElement?.textContent).toBe('Cancel');
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId('peer-remove'));
    expect(bridge.callsOf('peers.remove')).toEqual([]);
    await fireEvent.click(screen.getByTestId('peer-remove'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(screen.queryAllByTestId('peer-item')).toHaveLength(0));
    expect(bridge.callsOf('peers.remove')).toEqual([{ id: 'p1' }]);
  });

  it('selects a peer to browse it', async () => {
    const { app, bridge } = await list({ 'browse.list': () => [] });
    const select = screen.getByTestId('peer-item').querySelector('button.select')!;
    await fireEvent.click(select);
    expect(app.selectedPeerId).toBe('p1');
    expect(select.getAttribute('aria-pressed')).toBe('true');
    expect(bridge.callsOf('browse.list')).toEqual([{ peer: 'p1', path: '' }]);
  });
});
