/**
 * Colours of the live view. Canvas needs real colours, not CSS variables; these read well on
 * both the light and the dark theme. Sockets get distinct hues, none of them green, red, amber
 * or grey, so a block in flight never looks finished or failed.
 */
import {
  BLOCK_FAILED,
  BLOCK_INFLIGHT,
  BLOCK_PENDING,
  BLOCK_RETRIED,
  BLOCK_VERIFIED,
} from '../../../../shared/contract.js';

export const BLOCK_COLORS: Readonly<Record<number, string>> = {
  [BLOCK_PENDING]: '#8a8f98',
  [BLOCK_INFLIGHT]: '#3b82f6',
  [BLOCK_VERIFIED]: '#22a55a',
  [BLOCK_FAILED]: '#e5484d',
  [BLOCK_RETRIED]: '#f5a524',
};

export const SOCKET_COLORS: readonly string[] = [
  '#3b82f6',
  '#a855f7',
  '#06b6d4',
  '#ec4899',
  '#6366f1',
  '#14b8a6',
  '#d946ef',
  '#0ea5e9',
];

export function socketColor(socketId: number): string {
  const n = SOCKET_COLORS.length;
  return SOCKET_COLORS[((socketId % n) + n) % n]!;
}
