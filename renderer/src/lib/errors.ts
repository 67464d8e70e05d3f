/**
 * Errors as a person reads them: a short title per code above the engine's own message (which
 * is already written for people: what failed, where, what to do).
 */
import type { ErrorCode, ErrorInfo } from '../../../shared/errors.js';
import { FerryError, isErrorCode } from '../../../shared/errors.js';

const TITLES: Readonly<Record<ErrorCode, string>> = {
  FERRY_ERR_PROTOCOL: 'The peer sent something Ferry does not understand',
  FERRY_ERR_BAD_MAGIC: 'That is not a Ferry peer',
  FERRY_ERR_VERSION: 'The peer runs an incompatible version of Ferry',
  FERRY_ERR_FRAME_TOO_LARGE: 'The peer sent too much at once',
  FERRY_ERR_TIMEOUT: 'The peer stopped answering',
  FERRY_ERR_TOO_MANY_CONNECTIONS: 'The peer is busy',
  FERRY_ERR_CONNECTION_LOST: 'Connection lost',
  FERRY_ERR_UNREACHABLE: 'Peer not reachable',
  FERRY_ERR_BAD_PATH: 'Refused: not an allowed name',
  FERRY_ERR_OUTSIDE_ROOT: 'Refused: outside the shared folder',
  FERRY_ERR_NOT_FOUND: 'Not found',
  FERRY_ERR_NOT_A_DIRECTORY: 'Not a folder',
  FERRY_ERR_READ_ONLY: 'Refused: the folder is read-only',
  FERRY_ERR_EXISTS: 'Already there',
  FERRY_ERR_PERMISSION: 'Permission denied',
  FERRY_ERR_DISK_FULL: 'Disk full',
  FERRY_ERR_IO: 'Disk error',
  FERRY_ERR_INTEGRITY: 'Data arrived damaged',
  FERRY_ERR_FILE_CHANGED: 'File changed while being sent',
  FERRY_ERR_CANCELLED: 'Cancelled',
  FERRY_ERR_UNSUPPORTED: 'Not possible here',
  FERRY_ERR_BAD_ARGUMENT: 'Check what you entered',
  FERRY_ERR_INTERNAL: 'Something went wrong',
  FERRY_ERR_NOT_TRUSTED: 'Not paired, or not allowed',
  FERRY_ERR_IDENTITY_CHANGED: 'Warning: not the device you paired with',
  FERRY_ERR_IDENTITY: "This device's identity is unusable",
  FERRY_ERR_DECLINED: 'Declined',
  FERRY_ERR_PAIRING: 'Pairing failed: the connection may be tampered with',
};

export function errorTitle(code: ErrorCode): string {
  return TITLES[code] ?? TITLES.FERRY_ERR_INTERNAL;
}

/** Any thrown value as {code, message}. */
export function toInfo(err: unknown): ErrorInfo {
  if (err instanceof FerryError) return { code: err.code, message: err.message };
  if (typeof err === 'object' && err !== null && 'code' in err && isErrorCode(err.code)) {
    return { code: err.code, message: 'message' in err ? String(err.message) : TITLES[err.code] };
  }
  return { code: 'FERRY_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
