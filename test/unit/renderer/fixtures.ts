/** Plain contract data for renderer tests. */
import type { DeviceState, LiveSnapshot, PeerState, TransferView } from '../../../shared/contract.js';
import type { RemoteEntry } from '../../../shared/types.js';
import { FakeBridge, type Handlers } from './fake-bridge.js';

export const device = (over: Partial<DeviceState> = {}): DeviceState => ({
  name: 'Alpha',
  deviceId: 'dev-a',
  host: '127.0.0.1',
  port: 7117,
  address: '127.0.0.1:7117',
  sharedFolder: '/home/me/Shared',
  downloadFolder: '/home/me/Downloads',
  readOnly: false,
  serving: true,
  ...over,
});

export const peer = (over: Partial<PeerState> = {}): PeerState => ({ id: 'p1', address: '127.0.0.1:7200', name: 'Bravo', online: true, ...over });

let created = 1_700_000_000_000;
export const transfer = (over: Partial<TransferView> = {}): TransferView => ({
  id: 'j1',
  direction: 'upload',
  incoming: false,
  peer: '127.0.0.1:7200',
  peerName: 'Bravo',
  label: 'photos',
  state: 'running',
  bytesDone: 250,
  bytesTotal: 1000,
  filesDone: 1,
  filesTotal: 4,
  bytesPerSecond: 2048,
  etaSeconds: 12,
  failures: [],
  createdAt: created++,
  ...over,
});

export const entry = (name: string, kind: RemoteEntry['kind'] = 'file', size = 1, mtime = 1_700_000_000_000): RemoteEntry => ({ name, kind, size, mtime });

/** A snapshot with blocks given as numbers (BLOCK_* states). */
export function snapshot(id: string, states: number[], over: Partial<LiveSnapshot> = {}): LiveSnapshot {
  return {
    id,
    files: [{ index: 0, path: 'f.bin', firstBlock: 0, blocks: states.length, state: 'sending' }],
    totalBlocks: states.length,
    blocks: Buffer.from(Uint8Array.from(states)).toString('base64'),
    carriers: [],
    sockets: [],
    ...over,
  };
}

/** A bridge that answers the start-up requests. */
export function startedBridge(kind: 'electron' | 'web', over: Handlers = {}, state: { peers?: PeerState[]; transfers?: TransferView[] } = {}): FakeBridge {
  return new FakeBridge(kind, {
    'device.get': () => device(),
    'peers.list': () => state.peers ?? [],
    'transfers.list': () => state.transfers ?? [],
    ...over,
  });
}
