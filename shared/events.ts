/**
 * Events the engine emits about a transfer, as plain data: the CLI draws a progress bar from
 * them, the desktop UI its transfer list, block map and socket lanes.
 */
import type { ErrorInfo } from './errors.js';
import type { Direction } from './types.js';

export type TransferState = 'queued' | 'running' | 'paused' | 'verifying' | 'done' | 'failed' | 'cancelled';
export type FileState = 'queued' | 'sending' | 'landed' | 'skipped' | 'refused' | 'failed';
export type BlockState = 'pending' | 'inflight' | 'verified' | 'failed';

export interface TransferInfo {
  /** Unique within this process. */
  id: string;
  direction: Direction;
  /** `host:port` of the other side, and its device name once known. */
  peer: string;
  peerName: string;
  /** What a person would call it: the first path, and "+N more". */
  label: string;
}

export interface TransferFileInfo {
  index: number;
  path: string;
  size: number;
  blocks: number;
  blockSize: number;
}

export interface TransferProgress {
  id: string;
  state: TransferState;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  /** Payload bytes that crossed the network in this attempt (resumed blocks do not count). */
  bytesSent: number;
  bytesPerSecond: number;
  /** Seconds left at the current speed; null while unknown. */
  etaSeconds: number | null;
}

export interface FileEvent {
  id: string;
  index: number;
  path: string;
  state: FileState;
  /** Where it landed, relative to the receiving folder, when it differs or is known. */
  landedAs?: string;
  /** Why it was skipped ('identical' or an error code's message), refused or failed. */
  reason?: string;
  error?: ErrorInfo;
}

export interface BlockEvent {
  id: string;
  file: number;
  block: number;
  state: BlockState;
  /** The socket carrying it while in flight. */
  socket?: number;
  /** How many times it was sent again after failing its check. */
  retries?: number;
}

export interface SocketInfo {
  id: number;
  local: string;
  remote: string;
  state: 'open' | 'closed';
  bytesInFlight: number;
  bytesSent: number;
  bytesReceived: number;
  /** Bytes per second, both directions, over the last sampling interval. */
  bytesPerSecond: number;
}

export interface TransferSummary {
  id: string;
  state: TransferState;
  filesLanded: number;
  filesSkipped: number;
  filesFailed: number;
  bytesTotal: number;
  bytesSent: number;
  failures: { path: string; error: ErrorInfo }[];
  /** What the sending side left out of the manifest (links, sockets, unreadable folders) and why. */
  leftOut: { path: string; reason: string }[];
  error?: ErrorInfo;
}
