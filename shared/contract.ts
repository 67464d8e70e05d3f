/**
 * The contract between the engine and every UI shell: one map of requests (name -> argument ->
 * result) and one map of events (name -> payload). The Electron preload and IPC handlers, the
 * browser shell's WebSocket bridge and the renderer's bridge are all typed from these maps, so
 * a renamed field breaks the build, not the app. Plain data only: it crosses IPC and JSON.
 */
import type { ErrorCode, ErrorInfo } from './errors.js';
import type { FileState, SocketInfo, TransferState } from './events.js';
import type { ConflictPolicy, Direction, RemoteEntry } from './types.js';

/** This device as the user sees and sets it. */
export interface DeviceState {
  name: string;
  deviceId: string;
  /** Interface the server listens on, and the port it got. */
  host: string;
  port: number;
  /** `host:port`, ready to copy to another device. */
  address: string;
  sharedFolder: string;
  downloadFolder: string;
  readOnly: boolean;
  serving: boolean;
  /** Why serving is off when it should be on (port taken, folder missing...). */
  error?: ErrorInfo;
}

/** What the user may change about this device; every field optional. */
export interface DeviceSettings {
  name?: string;
  sharedFolder?: string;
  downloadFolder?: string;
  readOnly?: boolean;
  serving?: boolean;
  port?: number;
  host?: string;
}

export interface PeerState {
  id: string;
  /** `host:port` as the user entered it (normalised). */
  address: string;
  /** The device name it gave in its hello, once seen. */
  name?: string;
  online: boolean;
  /** Why it is offline, in words. */
  error?: ErrorInfo;
  checkedAt?: number;
}

export interface TransferView {
  id: string;
  direction: Direction;
  /** True for transfers a peer started (uploads arriving here, downloads from here). */
  incoming: boolean;
  peer: string;
  peerName: string;
  label: string;
  state: TransferState;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
  error?: ErrorInfo;
  /** Failed files, path and reason. */
  failures: { path: string; error: ErrorInfo }[];
  createdAt: number;
}

/** One file's place in a transfer's block map. */
export interface LiveFile {
  index: number;
  path: string;
  /** Index of the file's first block in the transfer-wide block map. */
  firstBlock: number;
  blocks: number;
  state: FileState;
}

/** Block states in the live view, one byte per block. */
export const BLOCK_PENDING = 0;
export const BLOCK_INFLIGHT = 1;
export const BLOCK_VERIFIED = 2;
export const BLOCK_FAILED = 3;
/** A block that failed its check once and was sent again (then verified). */
export const BLOCK_RETRIED = 4;

/**
 * The live picture of one transfer. `blocks` is base64 of one byte per block (BLOCK_* above);
 * `carriers` pairs in-flight block indexes with the socket id carrying them. Sent whole when a
 * view opens and then at most LIVE_HZ times a second while the transfer runs.
 */
export interface LiveSnapshot {
  id: string;
  files: LiveFile[];
  totalBlocks: number;
  blocks: string;
  carriers: [block: number, socket: number][];
  sockets: SocketInfo[];
}

/** A file the browser shell streams from the page: its bytes are read on demand by id. */
export interface StreamedEntry {
  /** Relative path, '/'-separated, as it will land (folders included, from the entries API). */
  path: string;
  kind: 'file' | 'dir';
  size: number;
  mtime: number;
  /** Page-side handle for reads; files only. */
  handle?: number;
}

export interface Requests {
  'device.get': (arg: null) => DeviceState;
  'device.update': (arg: DeviceSettings) => DeviceState;
  'peers.list': (arg: null) => PeerState[];
  'peers.add': (arg: { address: string }) => PeerState;
  'peers.remove': (arg: { id: string }) => null;
  'peers.check': (arg: { id: string }) => PeerState;
  'browse.list': (arg: { peer: string; path: string }) => RemoteEntry[];
  'transfers.list': (arg: null) => TransferView[];
  'transfers.upload': (arg: { peer: string; paths: string[]; to: string; conflict?: ConflictPolicy }) => TransferView;
  'transfers.uploadStreamed': (arg: {
    peer: string;
    to: string;
    entries: StreamedEntry[];
    conflict?: ConflictPolicy;
  }) => TransferView;
  'transfers.download': (arg: { peer: string; paths: string[]; conflict?: ConflictPolicy }) => TransferView;
  'transfers.pause': (arg: { id: string }) => null;
  'transfers.resume': (arg: { id: string }) => null;
  'transfers.cancel': (arg: { id: string }) => null;
  'transfers.retry': (arg: { id: string }) => null;
  'transfers.clear': (arg: null) => null;
  'live.get': (arg: { id: string }) => LiveSnapshot | null;
  /** Native pickers: available in the Electron shell; the browser shell answers UNSUPPORTED. */
  'dialog.chooseFolder': (arg: { title: string }) => string | null;
  'dialog.chooseFiles': (arg: { title: string }) => string[];
}

export interface Events {
  device: DeviceState;
  peers: PeerState[];
  /** One transfer changed: coalesced, at most PROGRESS_HZ per transfer per second. */
  transfer: TransferView;
  /** The live picture of a running transfer, at most LIVE_HZ a second. */
  live: LiveSnapshot;
}

export type RequestName = keyof Requests;
export type RequestArg<K extends RequestName> = Parameters<Requests[K]>[0];
export type RequestResult<K extends RequestName> = ReturnType<Requests[K]>;
export type EventName = keyof Events;

/** Every answer crosses as a result, never as a thrown error (Electron's invoke loses all but the message). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

export const PROGRESS_HZ = 20;
export const LIVE_HZ = 15;

export const REQUEST_NAMES: readonly RequestName[] = [
  'device.get',
  'device.update',
  'peers.list',
  'peers.add',
  'peers.remove',
  'peers.check',
  'browse.list',
  'transfers.list',
  'transfers.upload',
  'transfers.uploadStreamed',
  'transfers.download',
  'transfers.pause',
  'transfers.resume',
  'transfers.cancel',
  'transfers.retry',
  'transfers.clear',
  'live.get',
  'dialog.chooseFolder',
  'dialog.chooseFiles',
];

export const EVENT_NAMES: readonly EventName[] = ['device', 'peers', 'transfer', 'live'];
