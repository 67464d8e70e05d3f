/** How a transfer reads in the list: its direction as seen from here, its buttons, its numbers. */
import type { TransferView } from '../../../shared/contract.js';
import type { TransferState } from '../../../shared/events.js';

export type TransferAction = 'pause' | 'resume' | 'cancel' | 'retry';

/** Whether bytes leave this device. `direction` names what the starting side asked for. */
export function isSending(t: Pick<TransferView, 'direction' | 'incoming'>): boolean {
  return (t.direction === 'upload') !== t.incoming;
}

export function directionText(t: Pick<TransferView, 'direction' | 'incoming' | 'peerName'>): {
  arrow: string;
  text: string;
} {
  return isSending(t)
    ? { arrow: '↑', text: `Sending to ${t.peerName}` }
    : { arrow: '↓', text: `Receiving from ${t.peerName}` };
}

export const STATE_TEXT: Readonly<Record<TransferState, string>> = {
  queued: 'Queued',
  running: 'Running',
  paused: 'Paused',
  verifying: 'Verifying',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const FINISHED: ReadonlySet<TransferState> = new Set(['done', 'failed', 'cancelled']);

/**
 * The buttons a transfer offers. A transfer a peer started can only be cancelled from here
 * (the engine refuses to pause or restart it).
 */
export function actionsFor(t: Pick<TransferView, 'state' | 'incoming'>): TransferAction[] {
  if (t.incoming) return FINISHED.has(t.state) ? [] : ['cancel'];
  switch (t.state) {
    case 'queued':
    case 'running':
    case 'verifying':
      return ['pause', 'cancel'];
    case 'paused':
      return ['resume', 'cancel'];
    case 'failed':
    case 'cancelled':
      return ['retry'];
    case 'done':
      return [];
  }
}

/** Whole percent done, 0 to 100. */
export function percent(t: Pick<TransferView, 'bytesDone' | 'bytesTotal' | 'state'>): number {
  if (t.state === 'done') return 100;
  if (t.bytesTotal <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((t.bytesDone / t.bytesTotal) * 100)));
}
