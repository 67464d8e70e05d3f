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
  /**
   * This device's ID: the fingerprint of its certificate in grouped base32 (8 groups of 7, as
   * `ferry id` prints it). Peers compare it when pairing; its first group is the short form.
   */
  deviceId: string;
  /** Interface the server listens on ('0.0.0.0': all of them), and the port it got. */
  host: string;
  port: number;
  /**
   * One `host:port` to give another device: the first LAN IPv4 address when listening on all
   * interfaces (127.0.0.1 when there is none), else the address listened on.
   */
  address: string;
  /** Every `host:port` a peer can use (the LAN IPv4 addresses with the port), `address` first. */
  addresses: string[];
  /** Whether this device announces itself to nearby devices and lists theirs. */
  discovery: boolean;
  sharedFolder: string;
  downloadFolder: string;
  readOnly: boolean;
  serving: boolean;
  /** Why serving is off when it should be on (port taken, folder missing...). */
  error?: ErrorInfo;
  /** Something the user should know that stops nothing (a damaged trusted devices list set aside). */
  warning?: string;
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
  discovery?: boolean;
}

/** What this device lets a paired peer do. */
export interface PeerPermissions {
  /** May list and download from my shared folder. */
  browse: boolean;
  /** May send files to me. */
  send: boolean;
  /** Its uploads start without asking me (needs `send`). */
  autoAccept: boolean;
}

export interface PeerState {
  id: string;
  /**
   * `host:port` as the user entered it (normalised), or as the peer announced itself nearby;
   * '' for a paired device whose address is not known here (it paired with us).
   */
  address: string;
  /** The device name it gave in its hello (or its announcement), once seen. */
  name?: string;
  /**
   * Its device ID, once seen: pinned, so that another certificate at this address is refused
   * (FERRY_ERR_IDENTITY_CHANGED).
   */
  deviceId?: string;
  /** Whether this device trusts it (paired): only then are its files listed, sent or fetched. */
  trusted: boolean;
  /** What this device lets it do; trusted peers only. */
  permissions?: PeerPermissions;
  /** Heard on the local network recently (an announcement: a hint, never trust). */
  discovered?: boolean;
  online: boolean;
  /** Why it is offline, in words. */
  error?: ErrorInfo;
  checkedAt?: number;
}

export type PairingDirection = 'incoming' | 'outgoing';
export type PairingStatus = 'waiting' | 'accepted' | 'declined' | 'failed';

/**
 * A pairing, shown on both screens: the other device's name and ID and the 6-digit code to
 * compare. 'incoming': the other device asked, the person here approves or declines;
 * 'outgoing': this device asked, the person here may cancel. Sent when the code is known
 * (state 'waiting') and again when it ends.
 */
export interface PairingView {
  id: string;
  direction: PairingDirection;
  peerName: string;
  peerDeviceId: string;
  /** The other device's address as seen from here (its server's for outgoing). */
  address: string;
  /** Six digits. */
  code: string;
  state: PairingStatus;
  /** Why it failed (cancelled, timed out, connection lost, tampering). */
  error?: ErrorInfo;
}

export type UploadRequestStatus = 'waiting' | 'accepted' | 'declined' | 'expired';

/**
 * An upload from a paired peer that may not send without asking: the person accepts or
 * declines it, and it is declined at `expiresAt` if nobody answers. Sent when it arrives and
 * again when it is answered or expires.
 */
export interface UploadRequestView {
  id: string;
  peerName: string;
  peerDeviceId: string;
  /** The first UPLOAD_REQUEST_FILES file names (paths as the sender gave them). */
  files: string[];
  fileCount: number;
  totalBytes: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  state: UploadRequestStatus;
}

/** How many file names an upload request carries to the UI. */
export const UPLOAD_REQUEST_FILES = 50;

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
  /**
   * Ask the peer to pair. Answers once the code is known (both screens then show it); the
   * outcome comes as a 'pairing' event. `pairingId` is the id of that event, to cancel with
   * pairing.answer({id, approve: false}).
   */
  'peers.pair': (arg: { id: string }) => { pairingId: string; code: string; peerName: string; peerDeviceId: string };
  /** What this device lets a paired peer do; the fields given change. */
  'peers.permissions': (arg: { id: string; browse?: boolean; send?: boolean; autoAccept?: boolean }) => PeerState;
  /** Stop trusting a peer ("Forget"): its next request is refused. It stays in the list, not paired. */
  'peers.untrust': (arg: { id: string }) => PeerState;
  /**
   * Answer an incoming pairing (approve, with permissions, or decline); on an outgoing one,
   * approve: false cancels it.
   */
  'pairing.answer': (arg: { id: string; approve: boolean; permissions?: Partial<PeerPermissions> }) => null;
  /** The pairings waiting for an answer (for a page that opens while one is shown). */
  'pairing.list': (arg: null) => PairingView[];
  /** Accept or decline an upload request. */
  'uploads.answer': (arg: { id: string; accept: boolean }) => null;
  /** The upload requests waiting for an answer. */
  'uploads.requests': (arg: null) => UploadRequestView[];
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
  /** A pairing began (its code is known) or ended. */
  pairing: PairingView;
  /** An upload waits for the person's answer, or was answered or expired. */
  'upload-request': UploadRequestView;
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
  'peers.pair',
  'peers.permissions',
  'peers.untrust',
  'pairing.answer',
  'pairing.list',
  'uploads.answer',
  'uploads.requests',
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

export const EVENT_NAMES: readonly EventName[] = ['device', 'peers', 'transfer', 'live', 'pairing', 'upload-request'];
