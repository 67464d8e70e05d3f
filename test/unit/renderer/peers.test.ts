/** The peer list: adding by address (checked first), offline reasons, removing after asking. */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import PeerAddForm from '../../../renderer/src/components/PeerAddForm.svelte';
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
    const error = {
      code: 'FERRY_ERR_UNREACHABLE' as const,
      message: 'Nothing answers at 10.9.9.9:7117: is Ferry running there?',
    };
    const { bridge } = await list(
      {
        'peers.add': () => peer({ id: 'p9', address: '10.9.9.9:7117', name: undefined, online: false, error }),
        'peers.check': () => peer({ id: 'p9', address: '10.9.9.9:7117', name: 'Delta', online: true }),
      },
      [],
    );
    await add('10.9.9.9:7117');
    await waitFor(() => expect(screen.getByTestId('peer-add-message').textContent).toContain('offline'));
    expect(screen.getByTestId('peer-add-message').textContent).toContain(error.message);
    const item = screen.getByTestId('peer-item');
    expect(item.dataset.online).toBe('false');
    expect(item.textContent).toContain('offline');
    expect(screen.getByTestId('peer-offline-reason').textContent).toContain('Peer not reachable');
    expect(screen.getByTestId('peer-offline-reason').textContent).toContain(error.message);
    // Asked again once it is up: it comes online, and the reason goes.
    await fireEvent.click(screen.getByTestId('peer-check'));
    await waitFor(() => expect(screen.getByTestId('peer-item').dataset.online).toBe('true'));
    expect(screen.queryByTestId('peer-offline-reason')).toBeNull();
    expect(bridge.callsOf('peers.check')).toEqual([{ id: 'p9' }]);
  });

  it('shows a refusal from the engine with its title', async () => {
    await list({ 'peers.add': () => fail('FERRY_ERR_BAD_ARGUMENT', '"x:1" is not a peer address (bad host name)') });
    await add('x:1');
    await waitFor(() =>
      expect(screen.getByTestId('peer-add-message').textContent).toBe(
        'Check what you entered: "x:1" is not a peer address (bad host name)',
      ),
    );
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

  // Regression: "Added Bravo" stayed under the field for good.
  it('lets the "Added" confirmation go after a while, and at once when typing again', async () => {
    const bravo = peer({ id: 'p2', address: '10.0.0.3:7117', name: 'Bravo', online: true });
    const onAdd = () => Promise.resolve(bravo);
    const view = render(PeerAddForm, { props: { onAdd, okMs: 150 } });
    await add('10.0.0.3:7117');
    await waitFor(() => expect(screen.getByTestId('peer-add-message').textContent).toBe('Added Bravo'));
    expect(screen.getByTestId('peer-add-message').getAttribute('role')).toBe('status');
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.getByTestId('peer-add-message').dataset.gone, 'still shown shortly after').toBe('false');
    // Gone, but it keeps its line (hidden) so that nothing below moves under the pointer.
    await waitFor(() => expect(screen.getByTestId('peer-add-message').dataset.gone).toBe('true'), { timeout: 1000 });
    expect(screen.getByTestId('peer-add-message').classList.contains('gone')).toBe(true);
    expect(screen.getByTestId('peer-add-input').getAttribute('aria-describedby')).toBeNull();

    view.unmount();
    render(PeerAddForm, { props: { onAdd, okMs: 60_000 } });
    await add('10.0.0.3:7117');
    await waitFor(() => expect(screen.getByTestId('peer-add-message').textContent).toBe('Added Bravo'));
    await fireEvent.input(screen.getByTestId('peer-add-input'), { target: { value: '10.0.0.4:7117' } });
    expect(screen.queryByTestId('peer-add-message')).toBeNull();
  });

  it('lets the "Added" confirmation go when the focus moves on from the form', async () => {
    const { app } = await list({
      'peers.add': () => peer({ id: 'p2', address: '10.0.0.3:7117', name: 'Charlie', online: true }),
      'browse.list': () => [],
    });
    const input = screen.getByTestId('peer-add-input');
    input.focus();
    await add('10.0.0.3:7117');
    await waitFor(() => expect(screen.getByTestId('peer-add-message').textContent).toBe('Added Charlie'));
    // Within the form (the Add button) it stays.
    await fireEvent.focusOut(input, { relatedTarget: screen.getByTestId('peer-add-button') });
    expect(screen.getByTestId('peer-add-message').dataset.gone).toBe('false');
    // On to the new peer: it goes, and the list stays where it was for the click to land.
    const select = screen.getAllByTestId('peer-item')[1]!.querySelector<HTMLButtonElement>('button.select')!;
    await fireEvent.focusOut(input, { relatedTarget: select });
    expect(screen.getByTestId('peer-add-message').dataset.gone).toBe('true');
    await fireEvent.click(select);
    expect(app.selectedPeerId).toBe('p2');
    // Typing again removes it for good.
    await fireEvent.input(input, { target: { value: '1' } });
    expect(screen.queryByTestId('peer-add-message')).toBeNull();
  });

  it('keeps an "offline" warning until typing again, wherever the focus goes', async () => {
    const error = { code: 'FERRY_ERR_UNREACHABLE' as const, message: 'Nothing answers at 10.9.9.9:7117' };
    render(PeerAddForm, {
      props: {
        onAdd: () =>
          Promise.resolve(peer({ id: 'p9', address: '10.9.9.9:7117', name: undefined, online: false, error })),
        okMs: 20,
      },
    });
    await add('10.9.9.9:7117');
    await waitFor(() => expect(screen.getByTestId('peer-add-message').textContent).toContain('offline'));
    await new Promise((r) => setTimeout(r, 100));
    await fireEvent.focusOut(screen.getByTestId('peer-add-input'), { relatedTarget: document.body });
    expect(screen.getByTestId('peer-add-message').textContent).toContain('offline');
    expect(screen.getByTestId('peer-add-message').dataset.gone).toBe('false');
    await fireEvent.input(screen.getByTestId('peer-add-input'), { target: { value: '10.9.9.9:7118' } });
    expect(screen.queryByTestId('peer-add-message')).toBeNull();
  });
});
