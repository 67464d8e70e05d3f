/**
 * What a socket lane says and draws. A lane is open only while its transfer runs and the engine
 * reports the socket open: once the transfer has ended (done, failed, cancelled, paused) its
 * sockets may still be open in the pool, but nothing moves on them for it, so the lane shows
 * closed, with no speed, rather than the last speed it measured.
 */
import type { SocketInfo } from '../../../../shared/events.js';
import { formatBytes, formatRate } from '../../../../shared/format.js';
import type { LaneData } from './draw-socket-lanes.js';

export type LaneState = 'open' | 'closed';

export interface LaneWords {
  state: LaneState;
  /** "20 MiB/s" while open, "—" once closed. */
  speed: string;
  /** Bytes in flight while open; bytes moved, once closed. */
  detail: string;
}

export function laneState(socket: Pick<SocketInfo, 'state'>, transferActive: boolean): LaneState {
  return transferActive && socket.state === 'open' ? 'open' : 'closed';
}

export function laneWords(socket: SocketInfo, transferActive: boolean): LaneWords {
  const state = laneState(socket, transferActive);
  return state === 'open'
    ? { state, speed: formatRate(socket.bytesPerSecond), detail: `${formatBytes(socket.bytesInFlight)} in flight` }
    : { state, speed: '—', detail: `closed, ${formatBytes(socket.bytesSent + socket.bytesReceived)} moved` };
}

/** The lanes to draw: all closed once the transfer has ended (their lines fall to zero). */
export function shownLanes(lanes: readonly LaneData[], transferActive: boolean): readonly LaneData[] {
  return transferActive ? lanes : lanes.map((l) => (l.open ? { ...l, open: false } : l));
}
