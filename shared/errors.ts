/**
 * Ferry's one error type. Every failure the engine reports carries a `code` from the closed
 * union below; tests assert on codes, people read `message`. Codes cross the wire as the
 * numbers in {@link WIRE_CODES} so that a peer on another version still knows what went wrong.
 */

export const ERROR_CODES = [
  'FERRY_ERR_PROTOCOL', // malformed frame or message, bad state
  'FERRY_ERR_BAD_MAGIC', // the stream did not start with Ferry's magic number
  'FERRY_ERR_VERSION', // the peer speaks an incompatible protocol version
  'FERRY_ERR_FRAME_TOO_LARGE', // a frame header announced more than the limit
  'FERRY_ERR_TIMEOUT', // handshake or idle timeout
  'FERRY_ERR_TOO_MANY_CONNECTIONS',
  'FERRY_ERR_CONNECTION_LOST',
  'FERRY_ERR_UNREACHABLE', // could not connect to the peer
  'FERRY_ERR_BAD_PATH', // a path from a peer failed the guard
  'FERRY_ERR_OUTSIDE_ROOT', // a path resolved (through a link) outside the shared folder
  'FERRY_ERR_NOT_FOUND',
  'FERRY_ERR_NOT_A_DIRECTORY',
  'FERRY_ERR_READ_ONLY', // the share does not accept uploads
  'FERRY_ERR_EXISTS', // target exists and the conflict policy says skip
  'FERRY_ERR_PERMISSION', // EACCES / EPERM on disk
  'FERRY_ERR_DISK_FULL', // ENOSPC / EDQUOT
  'FERRY_ERR_IO', // any other disk error
  'FERRY_ERR_INTEGRITY', // a block or file failed its hash check
  'FERRY_ERR_FILE_CHANGED', // the source changed while it was being sent
  'FERRY_ERR_CANCELLED',
  'FERRY_ERR_UNSUPPORTED',
  'FERRY_ERR_BAD_ARGUMENT', // bad input from the local user (CLI flag, API argument)
  'FERRY_ERR_INTERNAL',
  'FERRY_ERR_NOT_TRUSTED', // the peer is not a trusted device, or lacks the permission asked for
  'FERRY_ERR_IDENTITY_CHANGED', // a known device presented a different certificate
  'FERRY_ERR_IDENTITY', // this device's identity (or trust list) is missing, corrupt or unreadable
  'FERRY_ERR_DECLINED', // the person on the other side declined (an upload, a pairing), or did not answer in time
  'FERRY_ERR_PAIRING', // a pairing exchange broke its rules (a reveal that does not match its commitment)
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Wire numbers for each code. Never renumber: add at the end. */
export const WIRE_CODES: Readonly<Record<ErrorCode, number>> = {
  FERRY_ERR_PROTOCOL: 1,
  FERRY_ERR_BAD_MAGIC: 2,
  FERRY_ERR_VERSION: 3,
  FERRY_ERR_FRAME_TOO_LARGE: 4,
  FERRY_ERR_TIMEOUT: 5,
  FERRY_ERR_TOO_MANY_CONNECTIONS: 6,
  FERRY_ERR_CONNECTION_LOST: 7,
  FERRY_ERR_UNREACHABLE: 8,
  FERRY_ERR_BAD_PATH: 9,
  FERRY_ERR_OUTSIDE_ROOT: 10,
  FERRY_ERR_NOT_FOUND: 11,
  FERRY_ERR_NOT_A_DIRECTORY: 12,
  FERRY_ERR_READ_ONLY: 13,
  FERRY_ERR_EXISTS: 14,
  FERRY_ERR_PERMISSION: 15,
  FERRY_ERR_DISK_FULL: 16,
  FERRY_ERR_IO: 17,
  FERRY_ERR_INTEGRITY: 18,
  FERRY_ERR_FILE_CHANGED: 19,
  FERRY_ERR_CANCELLED: 20,
  FERRY_ERR_UNSUPPORTED: 21,
  FERRY_ERR_BAD_ARGUMENT: 22,
  FERRY_ERR_INTERNAL: 23,
  FERRY_ERR_NOT_TRUSTED: 24,
  FERRY_ERR_IDENTITY_CHANGED: 25,
  FERRY_ERR_IDENTITY: 26,
  FERRY_ERR_DECLINED: 27,
  FERRY_ERR_PAIRING: 28,
};

const BY_WIRE = new Map<number, ErrorCode>(Object.entries(WIRE_CODES).map(([code, n]) => [n, code as ErrorCode]));

/** The code for a wire number; unknown numbers (a newer peer) become FERRY_ERR_PROTOCOL. */
export function codeFromWire(n: unknown): ErrorCode {
  return (typeof n === 'number' && BY_WIRE.get(n)) || 'FERRY_ERR_PROTOCOL';
}

export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === 'string' && (ERROR_CODES as readonly string[]).includes(s);
}

export class FerryError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FerryError';
    this.code = code;
  }
}

/** Plain-data form of an error, as it crosses IPC and the wire. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof FerryError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'FERRY_ERR_INTERNAL', message };
}
