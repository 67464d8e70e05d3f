/**
 * Control messages: their types, and the run-time checks every message from a peer passes
 * before any field is used. A peer is untrusted input; a message that fails its check is a
 * protocol error that closes the connection.
 */
import { FerryError } from '../../../shared/errors.js';
import type { ConflictPolicy, EntryKind, RemoteEntry } from '../../../shared/types.js';
import { type PairMessage, validatePairMessage } from '../pairing.js';

export interface OfferEntry {
  /** Relative path with '/' separators, checked by the receiver's path guard. */
  path: string;
  kind: 'file' | 'dir';
  size: number;
  /** Modification time, milliseconds since the epoch. */
  mtime: number;
  /** Block size the sender chose for this file. */
  bs: number;
}

export type DecisionAction = 'send' | 'resume' | 'skip' | 'refuse';

export interface Decision {
  i: number;
  a: DecisionAction;
  /** For resume: base64 bitmap of the blocks the receiver already holds (bit i = block i). */
  have?: string;
  /** For skip and refuse: the wire error code saying why. */
  code?: number;
  reason?: string;
}

export interface LandedFile {
  f: number;
  /** Where it landed, relative to the receiver's folder (share root or download folder; may be `name (1).ext`). */
  path?: string;
  code?: number;
  message?: string;
}

export type Message =
  | {
      t: 'hello';
      name: string;
      device: string;
      caps: string[];
      session?: string;
      key?: string;
      join?: { session: string; key: string };
    }
  | { t: 'error'; code: number; message: string }
  | { t: 'ping'; id: number }
  | { t: 'pong'; id: number }
  | { t: 'list'; req: number; path: string }
  | { t: 'list-part'; req: number; entries: RemoteEntry[] }
  | { t: 'list-end'; req: number; total: number }
  | { t: 'fail'; req: number; code: number; message: string }
  | { t: 'get'; xfer: number; paths: string[] }
  | { t: 'offer'; xfer: number; files: OfferEntry[]; to?: string; conflict?: ConflictPolicy; last: boolean }
  | { t: 'reply'; xfer: number; d: Decision[]; last: boolean }
  | { t: 'ack'; xfer: number; b: number[] }
  | { t: 'nack'; xfer: number; f: number; b: number; code: number }
  | { t: 'end'; xfer: number; f: number; root: string }
  | { t: 'skip-file'; xfer: number; f: number; code: number; message: string }
  | { t: 'landed'; xfer: number; files: LandedFile[] }
  | { t: 'done'; xfer: number }
  | { t: 'complete'; xfer: number }
  | { t: 'cancel'; xfer: number; code: number; message: string; keep?: boolean }
  | PairMessage;

export type MessageType = Message['t'];

function bad(what: string): never {
  throw new FerryError('FERRY_ERR_PROTOCOL', `Malformed message: ${what}`);
}

const MAX_STR = 64 * 1024;

function str(m: Record<string, unknown>, k: string, max = MAX_STR): string {
  const v = m[k];
  if (typeof v !== 'string' || v.length > max) bad(`field "${k}" must be a string`);
  return v;
}
function optStr(m: Record<string, unknown>, k: string): void {
  if (m[k] !== undefined) str(m, k);
}
function uint(m: Record<string, unknown>, k: string): number {
  const v = m[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`field "${k}" must be a whole number`);
  return v;
}
function num(v: unknown, k: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`field "${k}" must be a number`);
  return v;
}
function arr(m: Record<string, unknown>, k: string): unknown[] {
  const v = m[k];
  if (!Array.isArray(v)) bad(`field "${k}" must be a list`);
  return v;
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} must be an object`);
  return v as Record<string, unknown>;
}
function bool(m: Record<string, unknown>, k: string): boolean {
  if (typeof m[k] !== 'boolean') bad(`field "${k}" must be true or false`);
  return m[k];
}

const KINDS: readonly EntryKind[] = ['file', 'dir', 'link', 'other'];
const ACTIONS: readonly DecisionAction[] = ['send', 'resume', 'skip', 'refuse'];
const POLICIES: readonly ConflictPolicy[] = ['rename', 'overwrite', 'skip'];

/** Check a decoded control object field by field; returns it typed, or throws FERRY_ERR_PROTOCOL. */
export function validateMessage(m: { t: string } & Record<string, unknown>): Message {
  switch (m.t) {
    case 'hello': {
      str(m, 'name', 256);
      str(m, 'device', 256);
      for (const c of arr(m, 'caps')) if (typeof c !== 'string') bad('caps');
      optStr(m, 'session');
      optStr(m, 'key');
      if (m.join !== undefined) {
        const j = obj(m.join, 'join');
        str(j, 'session', 256);
        str(j, 'key', 256);
      }
      break;
    }
    case 'error':
    case 'fail':
    case 'cancel':
      if (m.t === 'fail') uint(m, 'req');
      if (m.t === 'cancel') {
        uint(m, 'xfer');
        if (m.keep !== undefined) bool(m, 'keep');
      }
      uint(m, 'code');
      str(m, 'message');
      break;
    case 'ping':
    case 'pong':
      uint(m, 'id');
      break;
    case 'list':
      uint(m, 'req');
      str(m, 'path');
      break;
    case 'list-part':
      uint(m, 'req');
      for (const e of arr(m, 'entries')) {
        const o = obj(e, 'entry');
        str(o, 'name', 4096);
        if (!KINDS.includes(o.kind as EntryKind)) bad('entry kind');
        uint(o, 'size');
        num(o.mtime, 'mtime');
      }
      break;
    case 'list-end':
      uint(m, 'req');
      uint(m, 'total');
      break;
    case 'get':
      uint(m, 'xfer');
      for (const p of arr(m, 'paths')) if (typeof p !== 'string') bad('paths');
      break;
    case 'offer':
      uint(m, 'xfer');
      bool(m, 'last');
      if (m.to !== undefined) str(m, 'to');
      if (m.conflict !== undefined && !POLICIES.includes(m.conflict as ConflictPolicy)) bad('conflict');
      for (const e of arr(m, 'files')) {
        const o = obj(e, 'offer entry');
        if (typeof o.path !== 'string') bad('offer path');
        if (o.kind !== 'file' && o.kind !== 'dir') bad('offer kind');
        uint(o, 'size');
        num(o.mtime, 'mtime');
        uint(o, 'bs');
      }
      break;
    case 'reply':
      uint(m, 'xfer');
      bool(m, 'last');
      for (const e of arr(m, 'd')) {
        const o = obj(e, 'decision');
        uint(o, 'i');
        if (!ACTIONS.includes(o.a as DecisionAction)) bad('decision action');
        optStr(o, 'have');
        if (o.code !== undefined) uint(o, 'code');
        optStr(o, 'reason');
      }
      break;
    case 'ack':
      uint(m, 'xfer');
      for (const n of arr(m, 'b')) if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) bad('ack');
      if (arr(m, 'b').length % 2 !== 0) bad('ack pairs');
      break;
    case 'nack':
      uint(m, 'xfer');
      uint(m, 'f');
      uint(m, 'b');
      uint(m, 'code');
      break;
    case 'end':
      uint(m, 'xfer');
      uint(m, 'f');
      str(m, 'root', 64);
      break;
    case 'skip-file':
      uint(m, 'xfer');
      uint(m, 'f');
      uint(m, 'code');
      str(m, 'message');
      break;
    case 'landed':
      uint(m, 'xfer');
      for (const e of arr(m, 'files')) {
        const o = obj(e, 'landed entry');
        uint(o, 'f');
        optStr(o, 'path');
        if (o.code !== undefined) uint(o, 'code');
        optStr(o, 'message');
      }
      break;
    case 'done':
    case 'complete':
      uint(m, 'xfer');
      break;
    case 'pair-commit':
    case 'pair-nonce':
    case 'pair-reveal':
    case 'pair-result':
      validatePairMessage(m);
      break;
    default:
      bad(`unknown type "${m.t.slice(0, 40)}"`);
  }
  return m as unknown as Message;
}
