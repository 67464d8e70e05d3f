/** AppState: the engine's events and answers become the renderer's state. */
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../shared/errors.js';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { fail } from './fake-bridge.js';
import { device, entry, peer, snapshot, startedBridge, transfer } from './fixtures.js';

async function started(...args: Parameters<typeof startedBridge>) {
  const bridge = startedBridge(...args);
  const app = new AppState(bridge);
  await app.start();
  return { bridge, app };
}

describe('AppState', () => {
  it('loads the device, peers and transfers on start, and listens to every event', async () => {
    const { bridge, app } = await started('web', {}, { peers: [peer()], transfers: [transfer()] });
    expect(app.device?.name).toBe('Alpha');
    expect(app.peers.map((p) => p.id)).toEqual(['p1']);
    expect(app.transfers.map((t) => t.id)).toEqual(['j1']);
    for (const e of ['device', 'peers', 'transfer', 'live'] as const) expect(bridge.listeners(e)).toBe(1);
    app.stop();
    for (const e of ['device', 'peers', 'transfer', 'live'] as const) expect(bridge.listeners(e)).toBe(0);
  });

  it('follows device and peer events', async () => {
    const { bridge, app } = await started('web');
    bridge.emit('device', device({ name: 'Renamed', serving: false }));
    expect(app.device).toMatchObject({ name: 'Renamed', serving: false });
    bridge.emit('peers', [peer(), peer({ id: 'p2', address: '10.0.0.2:7117', online: false })]);
    expect(app.peers.map((p) => [p.id, p.online])).toEqual([
      ['p1', true],
      ['p2', false],
    ]);
  });

  it('keeps one entry per transfer, updated in place, newest first', async () => {
    const { bridge, app } = await started('web');
    bridge.emit('transfer', transfer({ id: 'j1', createdAt: 1 }));
    bridge.emit('transfer', transfer({ id: 'j2', createdAt: 2, direction: 'download' }));
    bridge.emit('transfer', transfer({ id: 'j1', createdAt: 1, bytesDone: 900 }));
    expect(app.transfers.map((t) => t.id)).toEqual(['j2', 'j1']);
    expect(app.transfer('j1')?.bytesDone).toBe(900);
  });

  it('shows the running transfer live unless one was chosen, and keeps the last one after it ends', async () => {
    const { bridge, app } = await started('web');
    bridge.emit('transfer', transfer({ id: 'a', state: 'done', createdAt: 1 }));
    bridge.emit('transfer', transfer({ id: 'b', state: 'running', createdAt: 2 }));
    bridge.emit('transfer', transfer({ id: 'c', state: 'queued', createdAt: 3 }));
    expect(app.liveId).toBe('b');
    app.selectTransfer('a');
    expect(app.liveId).toBe('a');
    app.selectTransfer('a'); // choosing it again lets go
    expect(app.liveId).toBe('b');
    bridge.emit('transfer', transfer({ id: 'b', state: 'done', createdAt: 2 }));
    bridge.emit('transfer', transfer({ id: 'c', state: 'done', createdAt: 3 }));
    expect(app.liveId).toBe('c');
  });

  it("keeps live blocks out of reactive state; the viewed transfer's sockets follow its snapshots", async () => {
    const { bridge, app } = await started('web');
    bridge.emit('transfer', transfer({ id: 'j1' }));
    const socket = {
      id: 1,
      local: '127.0.0.1:5000',
      remote: '127.0.0.1:7200',
      state: 'open' as const,
      bytesInFlight: 10,
      bytesSent: 100,
      bytesReceived: 0,
      bytesPerSecond: 50,
    };
    bridge.emit('live', snapshot('j1', [2, 2, 1, 0], { sockets: [socket], carriers: [[2, 1]] }));
    expect(app.live.version('j1')).toBe(1);
    expect(app.live.blocks('j1')?.blocks).toEqual(Uint8Array.from([2, 2, 1, 0]));
    expect(app.liveSockets.map((s) => s.bytesSent)).toEqual([100]);
    bridge.emit('live', snapshot('j1', [2, 2, 2, 1], { sockets: [{ ...socket, bytesSent: 300 }] }));
    expect(app.liveSockets.map((s) => s.bytesSent)).toEqual([300]);
    // Another transfer's snapshot is kept, but does not touch the view.
    bridge.emit('live', snapshot('other', [0], { sockets: [{ ...socket, id: 9 }] }));
    expect(app.liveSockets.map((s) => s.id)).toEqual([1]);
  });

  it('shows an error from a failed request as {code, message}, until dismissed', async () => {
    const { bridge, app } = await started('web', {
      'transfers.pause': () =>
        fail('FERRY_ERR_UNSUPPORTED', 'A transfer started by the peer can be cancelled, not paused'),
    });
    await app.control('pause', 'j1');
    expect(bridge.callsOf('transfers.pause')).toEqual([{ id: 'j1' }]);
    expect(app.error).toEqual({
      code: 'FERRY_ERR_UNSUPPORTED',
      message: 'A transfer started by the peer can be cancelled, not paused',
    });
    app.dismissError();
    expect(app.error).toBeNull();
  });

  it('adds a peer (unreachable ones too, offline with the reason) and forgets the selection when it is removed', async () => {
    const offline = peer({
      id: 'p9',
      address: '10.9.9.9:7117',
      online: false,
      error: { code: 'FERRY_ERR_UNREACHABLE', message: 'Nothing answers at 10.9.9.9:7117' },
    });
    const { bridge, app } = await started('web', {
      'peers.add': () => offline,
      'peers.remove': () => null,
      'browse.list': () => [entry('a.txt')],
    });
    const added = await app.addPeer('10.9.9.9:7117');
    expect(added.online).toBe(false);
    expect(app.peers).toEqual([offline]);
    app.selectPeer('p9');
    await Promise.resolve();
    expect(bridge.callsOf('browse.list')).toEqual([{ peer: 'p9', path: '' }]);
    await app.removePeer('p9');
    expect(bridge.callsOf('peers.remove')).toEqual([{ id: 'p9' }]);
    expect(app.peers).toEqual([]);
    expect(app.selectedPeerId).toBeNull();
    expect(app.browse.peerId).toBeNull();
  });

  it("lets a refused add throw to the form with the engine's code", async () => {
    const { app } = await started('web', { 'peers.add': () => fail('FERRY_ERR_BAD_ARGUMENT', 'bad') });
    await expect(app.addPeer('x:1')).rejects.toBeInstanceOf(FerryError);
  });

  it('downloads the selected entries by their paths from the top of the share', async () => {
    const { bridge, app } = await started('web', {
      'browse.list': ({ path }) =>
        path === '' ? [entry('photos', 'dir')] : [entry('b.jpg'), entry('a.jpg'), entry('2023', 'dir')],
      'transfers.download': () => transfer({ id: 'd1', direction: 'download' }),
    });
    bridge.emit('peers', [peer()]);
    app.selectPeer('p1');
    await app.browse.open('p1', 'photos');
    app.browse.click(0, { ctrl: false, shift: false }); // 2023 (folders first)
    app.browse.click(2, { ctrl: false, shift: true }); // ..b.jpg
    await app.download();
    expect(bridge.callsOf('transfers.download')).toEqual([
      { peer: 'p1', paths: ['photos/2023', 'photos/a.jpg', 'photos/b.jpg'] },
    ]);
    expect(app.transfer('d1')).toBeDefined();
  });

  it('refreshes the open folder when an upload to that peer ends', async () => {
    let listed = 0;
    const { bridge, app } = await started('web', { 'browse.list': () => (listed++ === 0 ? [] : [entry('new.txt')]) });
    bridge.emit('peers', [peer()]);
    app.selectPeer('p1');
    await Promise.resolve();
    bridge.emit('transfer', transfer({ id: 'u1', state: 'running', peer: peer().address }));
    expect(listed).toBe(1);
    bridge.emit('transfer', transfer({ id: 'u1', state: 'done', peer: peer().address }));
    await new Promise((r) => setTimeout(r, 0));
    expect(listed).toBe(2);
    expect(app.browse.entries.map((e) => e.name)).toEqual(['new.txt']);
  });

  it('clears finished transfers by asking the engine for the list again', async () => {
    let list = [transfer({ id: 'keep', state: 'running' }), transfer({ id: 'gone', state: 'done' })];
    const { bridge, app } = await started('web', {
      'transfers.clear': () => {
        list = list.filter((t) => t.id === 'keep');
        return null;
      },
      'transfers.list': () => list,
    });
    bridge.emit('live', snapshot('gone', [2]));
    expect(app.transfers).toHaveLength(2);
    await app.clearFinished();
    expect(app.transfers.map((t) => t.id)).toEqual(['keep']);
    expect(app.live.has('gone')).toBe(false);
  });

  it('loads everything again after the connection comes back', async () => {
    const { bridge, app } = await started('web');
    const before = bridge.callsOf('device.get').length;
    bridge.setConnection('closed');
    flushSync();
    expect(app.connection).toBe('closed');
    bridge.setConnection('open');
    await Promise.resolve();
    expect(app.connection).toBe('open');
    expect(bridge.callsOf('device.get').length).toBe(before + 1);
  });

  it('saves device settings through the engine and shows what it answered', async () => {
    const { bridge, app } = await started('web', {
      'device.update': (patch) =>
        patch.sharedFolder === 'relative'
          ? fail('FERRY_ERR_BAD_ARGUMENT', 'Choose a full folder path, not "relative"')
          : device({ ...patch }),
    });
    expect(await app.updateDevice({ readOnly: true })).toBe(true);
    expect(app.device?.readOnly).toBe(true);
    expect(await app.updateDevice({ sharedFolder: 'relative' })).toBe(false);
    expect(app.error?.code).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(bridge.callsOf('device.update')).toEqual([{ readOnly: true }, { sharedFolder: 'relative' }]);
  });
});
