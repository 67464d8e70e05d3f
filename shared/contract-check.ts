/**
 * Run-time checks of every request argument from a UI. The renderer is untrusted input (an XSS
 * in it must not become arbitrary calls): each shell checks an argument before the engine sees
 * it, and answers a bad one with FERRY_ERR_BAD_ARGUMENT.
 */
import type { RequestArg, RequestName } from './contract.js';
import { FerryError } from './errors.js';

type Obj = Record<string, unknown>;

function fail(name: string, what: string): never {
  throw new FerryError('FERRY_ERR_BAD_ARGUMENT', `Bad argument to ${name}: ${what}`);
}

function obj(name: string, v: unknown): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(name, 'expected an object');
  return v as Obj;
}

function str(name: string, o: Obj, k: string, max = 4096): void {
  if (typeof o[k] !== 'string' || o[k].length > max) fail(name, `${k} must be a string`);
}

function optStr(name: string, o: Obj, k: string, max = 4096): void {
  if (o[k] !== undefined) str(name, o, k, max);
}

function strList(name: string, o: Obj, k: string, maxItems = 100_000): void {
  const v = o[k];
  if (!Array.isArray(v) || v.length > maxItems || !v.every((x) => typeof x === 'string' && x.length <= 4096)) {
    fail(name, `${k} must be a list of strings`);
  }
}

function optBool(name: string, o: Obj, k: string): void {
  if (o[k] !== undefined && typeof o[k] !== 'boolean') fail(name, `${k} must be true or false`);
}

function bool(name: string, o: Obj, k: string): void {
  if (typeof o[k] !== 'boolean') fail(name, `${k} must be true or false`);
}

/** Refuse fields the request does not know: a typo must not pass silently as "not given". */
function only(name: string, o: Obj, keys: string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(name, `unknown field ${k}`);
}

function optPermissions(name: string, o: Obj): void {
  for (const k of ['browse', 'send', 'autoAccept']) optBool(name, o, k);
}

function optConflict(name: string, o: Obj): void {
  if (o.conflict !== undefined && !['rename', 'overwrite', 'skip'].includes(o.conflict as string)) {
    fail(name, 'conflict must be rename, overwrite or skip');
  }
}

function num(name: string, v: unknown, k: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(name, `${k} must be a number`);
}

/** Check `arg` for request `name`; returns it typed, or throws FERRY_ERR_BAD_ARGUMENT. */
export function checkRequest<K extends RequestName>(name: K, arg: unknown): RequestArg<K> {
  switch (name) {
    case 'device.get':
    case 'peers.list':
    case 'transfers.list':
    case 'transfers.clear':
    case 'pairing.list':
    case 'uploads.requests':
      if (arg !== null && arg !== undefined) fail(name, 'expected no argument');
      return null;
    case 'device.update': {
      const o = obj(name, arg);
      for (const k of Object.keys(o)) {
        if (!['name', 'sharedFolder', 'downloadFolder', 'readOnly', 'serving', 'port', 'host', 'discovery'].includes(k))
          fail(name, `unknown field ${k}`);
      }
      optStr(name, o, 'name', 64);
      optStr(name, o, 'sharedFolder');
      optStr(name, o, 'downloadFolder');
      optStr(name, o, 'host', 255);
      optBool(name, o, 'readOnly');
      optBool(name, o, 'serving');
      optBool(name, o, 'discovery');
      if (o.port !== undefined && (!Number.isInteger(o.port) || (o.port as number) < 0 || (o.port as number) > 65535)) {
        fail(name, 'port must be a whole number from 0 to 65535');
      }
      break;
    }
    case 'peers.add':
      str(name, obj(name, arg), 'address', 300);
      break;
    case 'peers.remove':
    case 'peers.check':
    case 'peers.pair':
    case 'peers.untrust':
    case 'transfers.pause':
    case 'transfers.resume':
    case 'transfers.cancel':
    case 'transfers.retry':
    case 'live.get':
      str(name, obj(name, arg), 'id', 100);
      break;
    case 'peers.permissions': {
      const o = obj(name, arg);
      only(name, o, ['id', 'browse', 'send', 'autoAccept']);
      str(name, o, 'id', 100);
      optPermissions(name, o);
      break;
    }
    case 'pairing.answer': {
      const o = obj(name, arg);
      only(name, o, ['id', 'approve', 'permissions']);
      str(name, o, 'id', 100);
      bool(name, o, 'approve');
      if (o.permissions !== undefined) {
        const p = obj(name, o.permissions);
        only(name, p, ['browse', 'send', 'autoAccept']);
        optPermissions(name, p);
      }
      break;
    }
    case 'uploads.answer': {
      const o = obj(name, arg);
      only(name, o, ['id', 'accept']);
      str(name, o, 'id', 100);
      bool(name, o, 'accept');
      break;
    }
    case 'browse.list': {
      const o = obj(name, arg);
      str(name, o, 'peer', 100);
      str(name, o, 'path');
      break;
    }
    case 'transfers.upload': {
      const o = obj(name, arg);
      str(name, o, 'peer', 100);
      strList(name, o, 'paths');
      str(name, o, 'to');
      optConflict(name, o);
      break;
    }
    case 'transfers.uploadStreamed': {
      const o = obj(name, arg);
      str(name, o, 'peer', 100);
      str(name, o, 'to');
      optConflict(name, o);
      const entries = o.entries;
      if (!Array.isArray(entries) || entries.length > 100_000) fail(name, 'entries must be a list');
      for (const e of entries) {
        const x = obj(name, e);
        str(name, x, 'path');
        if (x.kind !== 'file' && x.kind !== 'dir') fail(name, 'entry kind must be file or dir');
        num(name, x.size, 'size');
        num(name, x.mtime, 'mtime');
        if (x.kind === 'file' && !Number.isInteger(x.handle)) fail(name, 'a file entry needs a handle');
      }
      break;
    }
    case 'transfers.download': {
      const o = obj(name, arg);
      str(name, o, 'peer', 100);
      strList(name, o, 'paths');
      optConflict(name, o);
      break;
    }
    case 'dialog.chooseFolder':
    case 'dialog.chooseFiles':
      str(name, obj(name, arg), 'title', 200);
      break;
    default:
      fail(String(name), 'unknown request');
  }
  return arg as RequestArg<K>;
}
