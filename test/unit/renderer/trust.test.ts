/**
 * Trust in the window: the state the engine's pairing and upload-request events become, the
 * pairing dialog on both sides, the peer's trust and permissions, Forget, the upload prompt,
 * "Pair first" instead of a folder, and this device's ID.
 */
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from '../../../renderer/src/App.svelte';
import DevicePanel from '../../../renderer/src/components/DevicePanel.svelte';
import PairingDialog from '../../../renderer/src/components/PairingDialog.svelte';
import PeerList from '../../../renderer/src/components/PeerList.svelte';
import RemoteView from '../../../renderer/src/components/RemoteView.svelte';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import type { PeerState } from '../../../shared/contract.js';
import { fail } from './fake-bridge.js';
import { ALPHA_ID, BRAVO_ID, device, pairing, peer, startedBridge, uploadRequest } from './fixtures.js';

async function started(...args: Parameters<typeof startedBridge>) {
  const bridge = startedBridge(...args);
  const app = new AppState(bridge);
  await app.start();
  return { bridge, app };
}

const stranger = (over: Partial<PeerState> = {}): PeerState =>
  peer({
    id: 'p2',
    name: 'Charlie',
    address: '10.0.0.3:7117',
    deviceId: undefined,
    trusted: false,
    permissions: undefined,
    ...over,
  });

afterEach(() => {
  Reflect.deleteProperty(navigator, 'clipboard');
  vi.useRealTimers();
});

describe('TrustState', () => {
  it('picks up what already waits on start, and follows the pairing and upload-request events', async () => {
    const { bridge, app } = await started('web', {
      'pairing.list': () => [pairing()],
      'uploads.requests': () => [uploadRequest()],
    });
    expect(app.trust.pairing?.id).toBe('pair1');
    expect(app.trust.uploadRequests.map((u) => u.id)).toEqual(['up1']);
    for (const e of ['pairing', 'upload-request'] as const) expect(bridge.listeners(e)).toBe(1);

    // Accepted: the dialog has nothing more to say and goes; the next waiting one shows.
    bridge.emit('pairing', pairing({ id: 'pair2', code: '111222' }));
    bridge.emit('pairing', pairing({ state: 'accepted' }));
    expect(app.trust.pairing?.id).toBe('pair2');
    // Declined: it stays, to say so, until closed; a late event does not bring it back.
    bridge.emit('pairing', pairing({ id: 'pair2', code: '111222', state: 'declined' }));
    expect(app.trust.pairing).toMatchObject({ id: 'pair2', state: 'declined' });
    app.trust.close('pair2');
    bridge.emit('pairing', pairing({ id: 'pair2', code: '111222' }));
    expect(app.trust.pairing).toBeNull();

    bridge.emit('upload-request', uploadRequest({ id: 'up2', expiresAt: Date.now() + 1000 }));
    expect(app.trust.uploadRequests.map((u) => u.id)).toEqual(['up2', 'up1']);
    bridge.emit('upload-request', uploadRequest({ state: 'expired' }));
    expect(app.trust.uploadRequests.map((u) => u.id)).toEqual(['up2']);
    app.stop();
    for (const e of ['pairing', 'upload-request'] as const) expect(bridge.listeners(e)).toBe(0);
  });

  it('asks a peer to pair: "Pairing…" until the code is known, then the dialog shows the answer', async () => {
    let answer!: () => void;
    const { bridge, app } = await started(
      'web',
      {
        'peers.pair': () =>
          new Promise((resolve) => {
            answer = () => resolve({ pairingId: 'pair7', code: '123456', peerName: 'Charlie', peerDeviceId: BRAVO_ID });
          }),
      },
      { peers: [stranger()] },
    );
    const asked = app.trust.pair(app.peers[0]!);
    expect(app.trust.starting('p2')).toBe(true);
    void app.trust.pair(app.peers[0]!); // a second click while asking asks nothing more
    answer();
    await asked;
    expect(bridge.callsOf('peers.pair')).toEqual([{ id: 'p2' }]);
    expect(app.trust.starting('p2')).toBe(false);
    expect(app.trust.pairing).toMatchObject({
      id: 'pair7',
      direction: 'outgoing',
      code: '123456',
      address: '10.0.0.3:7117',
    });
  });

  it('says why a pairing could not start', async () => {
    const { app } = await started(
      'web',
      { 'peers.pair': () => fail('FERRY_ERR_DECLINED', 'Charlie declined to pair with this device') },
      { peers: [stranger()] },
    );
    await app.trust.pair(app.peers[0]!);
    expect(app.error).toEqual({ code: 'FERRY_ERR_DECLINED', message: 'Charlie declined to pair with this device' });
    expect(app.trust.pairing).toBeNull();
  });

  it('browses a peer only once paired: selecting an unpaired one lists nothing, pairing it opens its folder', async () => {
    const { bridge, app } = await started('web', { 'browse.list': () => [] }, { peers: [stranger()] });
    app.selectPeer('p2');
    expect(bridge.callsOf('browse.list')).toEqual([]);
    bridge.emit('peers', [stranger({ trusted: true, permissions: { browse: true, send: true, autoAccept: false } })]);
    expect(bridge.callsOf('browse.list')).toEqual([{ peer: 'p2', path: '' }]);
  });

  it('Forget does not bring back a peer the list has dropped meanwhile', async () => {
    const { bridge, app } = await started(
      'web',
      { 'peers.untrust': () => peer({ id: 't-x', trusted: false, permissions: undefined }) },
      { peers: [peer({ id: 't-x', address: '' })] },
    );
    bridge.emit('peers', []);
    await app.trust.untrust('t-x');
    expect(app.peers).toEqual([]);
  });
});

describe('PairingDialog', () => {
  function dialog(over: Parameters<typeof pairing>[0] = {}) {
    const calls: string[] = [];
    render(PairingDialog, {
      props: {
        pairing: pairing(over),
        onApprove: () => calls.push('approve'),
        onDecline: () => calls.push('decline'),
        onCancel: () => calls.push('cancel'),
        onClose: () => calls.push('close'),
      },
    });
    return calls;
  }

  it('asked here: the name, the whole device ID, the code in two groups; Approve or Decline, Decline first', async () => {
    const calls = dialog();
    const d = screen.getByTestId('pairing-dialog');
    expect(d.dataset.direction).toBe('incoming');
    expect(d.getAttribute('aria-modal')).toBe('true');
    expect(within(d).getByRole('heading').textContent).toBe('Bravo asks to pair');
    expect(screen.getByTestId('pairing-peer-id').textContent).toBe(BRAVO_ID);
    expect(screen.getByTestId('pairing-code').textContent?.replace(/\s/g, '')).toBe('042917');
    expect([...screen.getByTestId('pairing-code').children].map((c) => c.textContent)).toEqual(['042', '917']);
    expect(screen.queryByTestId('pairing-cancel')).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId('pairing-decline'));
    // Tab goes round the dialog's buttons.
    await fireEvent.keyDown(d, { key: 'Tab' });
    expect(document.activeElement).toBe(screen.getByTestId('pairing-approve'));
    await fireEvent.keyDown(d, { key: 'Tab' });
    expect(document.activeElement).toBe(screen.getByTestId('pairing-decline'));
    await fireEvent.click(screen.getByTestId('pairing-approve'));
    await fireEvent.keyDown(d, { key: 'Escape' });
    expect(calls).toEqual(['approve', 'decline']);
  });

  it('asked from here: the same facts, waiting for the other screen; Cancel (or Escape), never Approve', async () => {
    const calls = dialog({ direction: 'outgoing', address: '10.0.0.3:7117' });
    expect(screen.getByTestId('pairing-dialog').dataset.direction).toBe('outgoing');
    expect(screen.getByTestId('pairing-dialog').textContent).toContain('Waiting for Bravo');
    expect(screen.queryByTestId('pairing-approve')).toBeNull();
    expect(screen.queryByTestId('pairing-decline')).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId('pairing-cancel'));
    await fireEvent.click(screen.getByTestId('pairing-cancel'));
    await fireEvent.keyDown(screen.getByTestId('pairing-dialog'), { key: 'Escape' });
    expect(calls).toEqual(['cancel', 'cancel']);
  });

  it('ended without pairing: says what happened, in words, and closes', async () => {
    const calls = dialog({ direction: 'outgoing', state: 'declined' });
    expect(screen.getByTestId('pairing-outcome').textContent).toBe('Bravo declined: nothing changed.');
    expect(screen.queryByTestId('pairing-code')).toBeNull();
    await fireEvent.click(screen.getByTestId('pairing-close'));
    expect(calls).toEqual(['close']);
  });

  it('a pairing that failed shows the reason', () => {
    dialog({
      state: 'failed',
      error: { code: 'FERRY_ERR_PAIRING', message: 'the other device revealed a number that does not match' },
    });
    expect(screen.getByTestId('pairing-outcome').textContent).toContain('does not match');
  });

  it('in the window: Approve answers the engine, and the dialog goes once it is accepted', async () => {
    const { bridge, app } = await started('web', { 'pairing.answer': () => null });
    render(App, { props: { app } });
    bridge.emit('pairing', pairing());
    await fireEvent.click(await screen.findByTestId('pairing-approve'));
    expect(bridge.callsOf('pairing.answer')).toEqual([{ id: 'pair1', approve: true }]);
    bridge.emit('pairing', pairing({ state: 'accepted' }));
    await waitFor(() => expect(screen.queryByTestId('pairing-dialog')).toBeNull());
  });

  it('in the window: Cancel closes the dialog at once, tells the engine, and gives the focus back', async () => {
    const { bridge, app } = await started('web', { 'pairing.answer': () => null });
    render(App, { props: { app } });
    screen.getByTestId('peer-add-input').focus();
    bridge.emit('pairing', pairing({ direction: 'outgoing' }));
    await fireEvent.click(await screen.findByTestId('pairing-cancel'));
    await waitFor(() => expect(screen.queryByTestId('pairing-dialog')).toBeNull());
    // The focus goes back where it was before the dialog took it.
    expect(document.activeElement).toBe(screen.getByTestId('peer-add-input'));
    expect(bridge.callsOf('pairing.answer')).toEqual([{ id: 'pair1', approve: false }]);
    // The engine then reports the cancelled pairing: it stays closed.
    bridge.emit(
      'pairing',
      pairing({
        direction: 'outgoing',
        state: 'failed',
        error: { code: 'FERRY_ERR_CANCELLED', message: 'The pairing was cancelled' },
      }),
    );
    expect(screen.queryByTestId('pairing-dialog')).toBeNull();
  });
});

describe('a peer in the list', () => {
  async function list(peers: PeerState[], over: Parameters<typeof startedBridge>[1] = {}) {
    const { bridge, app } = await started('web', over, { peers });
    render(PeerList, { props: { app } });
    return { bridge, app };
  }

  it('shows whether it is paired, with its short device ID; only an unpaired one offers Pair', async () => {
    const { bridge } = await list(
      [peer(), stranger({ deviceId: ALPHA_ID }), stranger({ id: 'd-x', discovered: true, name: 'Delta' })],
      {
        'peers.pair': () => ({ pairingId: 'pair1', code: '123456', peerName: 'Charlie', peerDeviceId: ALPHA_ID }),
      },
    );
    const [paired, unpaired, nearby] = screen.getAllByTestId('peer-item');
    expect(paired!.dataset.trusted).toBe('true');
    const badge = within(paired!).getByTestId('peer-trust');
    expect(badge.dataset.trusted).toBe('true');
    expect(badge.textContent).toContain('Paired');
    expect(badge.textContent).toContain(BRAVO_ID.slice(0, 7));
    expect(badge.getAttribute('title')).toContain(BRAVO_ID);
    expect(within(paired!).queryByTestId('peer-pair')).toBeNull();
    expect(within(unpaired!).getByTestId('peer-trust').dataset.trusted).toBe('false');
    expect(within(unpaired!).getByTestId('peer-trust').textContent).toContain('Not paired');
    expect(within(nearby!).getByTestId('peer-trust').textContent).toContain('Nearby, not paired');
    // A nearby device is listed while it announces itself: it has nothing to remove.
    expect(within(nearby!).queryByTestId('peer-remove')).toBeNull();
    await fireEvent.click(within(unpaired!).getByTestId('peer-pair'));
    expect(bridge.callsOf('peers.pair')).toEqual([{ id: 'p2' }]);
  });

  it('a device that presented another certificate is shown in red, and not offered pairing', async () => {
    await list([
      stranger({
        deviceId: ALPHA_ID,
        online: false,
        error: { code: 'FERRY_ERR_IDENTITY_CHANGED', message: '10.0.0.3:7117 is not the device you trusted' },
      }),
    ]);
    const reason = screen.getByTestId('peer-offline-reason');
    expect(reason.textContent).toContain('not the device you paired with');
    expect(reason.classList.contains('changed')).toBe(true);
    expect(screen.queryByTestId('peer-pair')).toBeNull();
  });

  it('edits what a paired peer may do; "send without asking" needs "send"', async () => {
    let perms = { browse: true, send: true, autoAccept: false };
    const { bridge } = await list([peer()], {
      'peers.permissions': ({ id: _id, ...patch }) => {
        perms = { ...perms, ...patch };
        return peer({ permissions: perms });
      },
    });
    expect(screen.queryByTestId('peer-permissions')).toBeNull();
    const toggle = screen.getByTestId('peer-permissions-toggle');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const box = (id: string) => screen.getByTestId<HTMLInputElement>(id);
    expect([box('perm-browse').checked, box('perm-send').checked, box('perm-auto').checked]).toEqual([
      true,
      true,
      false,
    ]);
    await fireEvent.click(box('perm-auto'));
    await waitFor(() => expect(box('perm-auto').checked).toBe(true));
    await fireEvent.click(box('perm-send'));
    await waitFor(() => expect(box('perm-auto').disabled).toBe(true));
    await fireEvent.click(box('perm-browse'));
    expect(bridge.callsOf('peers.permissions')).toEqual([
      { id: 'p1', autoAccept: true },
      { id: 'p1', send: false },
      { id: 'p1', browse: false },
    ]);
  });

  it('forgets a paired peer only after asking; Cancel keeps it', async () => {
    const { bridge } = await list([peer()], {
      'peers.untrust': () => peer({ trusted: false, permissions: undefined }),
    });
    await fireEvent.click(screen.getByTestId('peer-permissions-toggle'));
    await fireEvent.click(screen.getByTestId('peer-untrust'));
    expect(screen.getByRole('dialog').textContent).toContain('Forget Bravo?');
    await fireEvent.click(screen.getByText('Cancel'));
    expect(bridge.callsOf('peers.untrust')).toEqual([]);
    await fireEvent.click(screen.getByTestId('peer-untrust'));
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(screen.getByTestId('peer-item').dataset.trusted).toBe('false'));
    expect(bridge.callsOf('peers.untrust')).toEqual([{ id: 'p1' }]);
    expect(screen.getByTestId('peer-pair')).toBeTruthy();
  });

  it('removing a paired peer says that it is forgotten too', async () => {
    await list([peer()]);
    await fireEvent.click(screen.getByTestId('peer-remove'));
    expect(screen.getByRole('dialog').textContent).toContain('forgotten');
  });
});

describe('an upload waiting for an answer', () => {
  it('names the sender, the files and the size, counts down, and answers Accept or Decline', async () => {
    const { bridge, app } = await started('web', { 'uploads.answer': () => null });
    render(App, { props: { app } });
    const files = Array.from({ length: 50 }, (_, i) => `f${i}.bin`);
    bridge.emit(
      'upload-request',
      uploadRequest({ files, fileCount: 52, totalBytes: 5 * 1024 * 1024, expiresAt: Date.now() + 30_500 }),
    );
    const card = await screen.findByTestId('upload-request');
    expect(card.textContent).toContain('Bravo wants to send you 52 files (5.0 MiB)');
    expect(
      within(card)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([...files, 'and 2 more']);
    expect(card.textContent).toMatch(/Declined by itself in (30|31) s/);
    await fireEvent.click(within(card).getByTestId('upload-accept'));
    await waitFor(() => expect(screen.queryByTestId('upload-request')).toBeNull());
    expect(bridge.callsOf('uploads.answer')).toEqual([{ id: 'up1', accept: true }]);

    bridge.emit('upload-request', uploadRequest({ id: 'up2', fileCount: 1, files: ['one.txt'], totalBytes: 10 }));
    const second = await screen.findByTestId('upload-request');
    expect(second.textContent).toContain('Bravo wants to send you 1 file (10 B)');
    await fireEvent.click(within(second).getByTestId('upload-decline'));
    expect(bridge.callsOf('uploads.answer')).toEqual([
      { id: 'up1', accept: true },
      { id: 'up2', accept: false },
    ]);
  });

  it('goes away by itself when it expires', async () => {
    const { bridge, app } = await started('web');
    render(App, { props: { app } });
    bridge.emit('upload-request', uploadRequest());
    await screen.findByTestId('upload-request');
    bridge.emit('upload-request', uploadRequest({ state: 'expired' }));
    await waitFor(() => expect(screen.queryByTestId('upload-request')).toBeNull());
  });
});

describe('Pair first', () => {
  it('an unpaired peer shows "Pair first" and a Pair button instead of its folder', async () => {
    const { bridge, app } = await started(
      'web',
      {
        'browse.list': () => [],
        'peers.pair': () => ({ pairingId: 'pair1', code: '123456', peerName: 'Charlie', peerDeviceId: BRAVO_ID }),
      },
      { peers: [stranger()] },
    );
    app.selectPeer('p2');
    render(RemoteView, { props: { app } });
    const panel = screen.getByTestId('remote-pair-first');
    expect(panel.textContent).toContain('Pair first');
    expect(panel.textContent).toContain('Charlie is not paired with this device');
    expect(screen.queryByTestId('send-files-button')).toBeNull();
    await fireEvent.click(screen.getByTestId('remote-pair'));
    expect(bridge.callsOf('peers.pair')).toEqual([{ id: 'p2' }]);
    expect(bridge.callsOf('browse.list')).toEqual([]);
  });

  it('a paired peer that refuses us: the reason, and Pair again', async () => {
    const { bridge, app } = await started(
      'web',
      {
        'browse.list': () => fail('FERRY_ERR_NOT_TRUSTED', 'Bravo refused: This device has not been paired with Alpha'),
        'peers.pair': () => ({ pairingId: 'pair1', code: '123456', peerName: 'Bravo', peerDeviceId: BRAVO_ID }),
      },
      { peers: [peer()] },
    );
    app.selectPeer('p1');
    render(RemoteView, { props: { app } });
    const error = await screen.findByTestId('remote-error');
    expect(error.textContent).toContain('Not paired, or not allowed');
    expect(error.textContent).toContain('not been paired');
    await fireEvent.click(within(error).getByTestId('remote-pair'));
    expect(bridge.callsOf('peers.pair')).toEqual([{ id: 'p1' }]);
  });
});

describe("this device's ID", () => {
  it('shows the short ID, the whole one in its tooltip, and copies the whole one; other addresses on request', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const { app } = await started('web', {
      'device.get': () => device({ address: '192.168.1.20:7117', addresses: ['192.168.1.20:7117', '10.8.0.2:7117'] }),
    });
    render(DevicePanel, { props: { app } });
    const id = screen.getByTestId('device-id');
    expect(id.textContent).toBe(ALPHA_ID.slice(0, 7));
    expect(id.getAttribute('title')).toBe(ALPHA_ID);
    expect(id.dataset.deviceId).toBe(ALPHA_ID);
    await fireEvent.click(screen.getByTestId('copy-device-id'));
    expect(writeText).toHaveBeenCalledWith(ALPHA_ID);
    expect(screen.getByTestId('device-address').textContent).toBe('192.168.1.20:7117');
    const more = screen.getByTestId('device-addresses');
    expect(more.textContent).toContain('+1');
    expect(more.textContent).toContain('10.8.0.2:7117');
    await fireEvent.click(within(more).getByTestId('copy-other-address'));
    expect(writeText).toHaveBeenLastCalledWith('10.8.0.2:7117');
  });

  it('turns nearby devices off and on', async () => {
    const { bridge, app } = await started('web', { 'device.update': (patch) => device(patch) });
    render(DevicePanel, { props: { app } });
    expect(screen.getByTestId<HTMLInputElement>('discovery-toggle').checked).toBe(true);
    await fireEvent.click(screen.getByTestId('discovery-toggle'));
    expect(bridge.callsOf('device.update')).toEqual([{ discovery: false }]);
  });
});
