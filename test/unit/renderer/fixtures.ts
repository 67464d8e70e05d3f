/** Plain contract data for renderer tests. */
import type {
  DeviceState,
  LiveSnapshot,
  PairingView,
  PeerState,
  TransferView,
  UploadRequestView,
} from '../../../shared/contract.js';
import type { RemoteEntry } from '../../../shared/types.js';
import { FakeBridge, type Handlers } from './fake-bridge.js';

/** Device IDs of the right form (8 groups of 7). */
export const ALPHA_ID = 'P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2';
export const BRAVO_ID = 'MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-OBUXC2L-TVN4W6A';

export const device = (over: Partial<DeviceState> = {}): DeviceState => ({
  name: 'Alpha',
  deviceId: ALPHA_ID,
  host: '127.0.0.1',
  port: 7117,
  address: '127.0.0.1:7117',
  addresses: ['127.0.0.1:7117'],
  discovery: true,
  sharedFolder: '/home/me/Shared',
  downloadFolder: '/home/me/Downloads',
  readOnly: false,
  serving: true,
  ...over,
});

/** A peer: paired, with the default permissions, unless `over` says otherwise. */
export const peer = (over: Partial<PeerState> = {}): PeerState => ({
  id: 'p1',
  address: '127.0.0.1:7200',
  name: 'Bravo',
  deviceId: BRAVO_ID,
  trusted: true,
  permissions: { browse: true, send: true, autoAccept: false },
  online: true,
  ...over,
});

export const pairing = (over: Partial<PairingView> = {}): PairingView => ({
  id: 'pair1',
  direction: 'incoming',
  peerName: 'Bravo',
  peerDeviceId: BRAVO_ID,
  address: '127.0.0.1:50123',
  code: '042917',
  state: 'waiting',
  ...over,
});

export const uploadRequest = (over: Partial<UploadRequestView> = {}): UploadRequestView => ({
  id: 'up1',
  peerName: 'Bravo',
  peerDeviceId: BRAVO_ID,
  files: ['photos/beach.jpg', 'notes.txt'],
  fileCount: 2,
  totalBytes: 3 * 1024 * 1024,
  expiresAt: Date.now() + 60_000,
  state: 'waiting',
  ...over,
});

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

export const entry = (
  name: string,
  kind: RemoteEntry['kind'] = 'file',
  size = 1,
  mtime = 1_700_000_000_000,
): RemoteEntry => ({ name, kind, size, mtime });

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
export function startedBridge(
  kind: 'electron' | 'web',
  over: Handlers = {},
  state: { peers?: PeerState[]; transfers?: TransferView[] } = {},
): FakeBridge {
  return new FakeBridge(kind, {
    'device.get': () => device(),
    'peers.list': () => state.peers ?? [],
    'transfers.list': () => state.transfers ?? [],
    'pairing.list': () => [],
    'uploads.requests': () => [],
    ...over,
  });
}
