/**
 * `ferry trust ls | add | set | rm`: the trusted devices of a home, and what each may do. The
 * list lives in `<home>/trusted.json`; a `ferry serve` (or the app) running on the same home
 * re-reads it on its next lookup, so `ferry trust rm` revokes a device at once.
 *
 * These commands never make an identity: they only touch the list.
 */
import { FerryError } from '../../shared/errors.js';
import { formatDeviceId, type Permissions, type TrustedDevice } from '../core/identity/index.js';
import { UsageError } from './args.js';
import { describePeer, openTrust } from './device.js';
import { err, formatTime, out, safeName } from './output.js';

export type TrustCommand =
  | { action: 'ls'; home: string; json: boolean }
  | { action: 'add'; home: string; fingerprint: Buffer; name?: string; permissions: Partial<Permissions> }
  | { action: 'set'; home: string; fingerprint: Buffer; name?: string; permissions: Partial<Permissions> }
  | { action: 'rm'; home: string; fingerprint: Buffer };

/** What a device may do, in words: `browse, send, auto-accept`, or `nothing`. */
export function permissionsText(p: Permissions): string {
  const words = [p.browse && 'browse', p.send && 'send', p.autoAccept && 'auto-accept'].filter(Boolean);
  return words.length > 0 ? words.join(', ') : 'nothing';
}

/** The table of `ferry trust ls`: device ID, name, permissions, when it was added. */
export function formatTrustList(devices: TrustedDevice[]): string[] {
  const rows = devices.map((d) => ({
    id: d.deviceId,
    name: safeName(d.name) || '(unnamed)',
    may: permissionsText(d.permissions),
    added: d.addedAt > 0 ? formatTime(d.addedAt) : '-',
  }));
  const head = { id: 'DEVICE ID', name: 'NAME', may: 'MAY', added: 'ADDED' };
  const all = [head, ...rows];
  const w = (k: 'id' | 'name' | 'may'): number => Math.max(...all.map((r) => r[k].length));
  return all.map((r) => `${r.id.padEnd(w('id'))}  ${r.name.padEnd(w('name'))}  ${r.may.padEnd(w('may'))}  ${r.added}`);
}

export function trust(cmd: TrustCommand): number {
  const store = openTrust(cmd.home);
  switch (cmd.action) {
    case 'ls': {
      const devices = store.list();
      if (cmd.json) out(JSON.stringify(devices, null, 2));
      else if (devices.length === 0) err(`(no trusted devices in ${cmd.home})`);
      else for (const line of formatTrustList(devices)) out(line);
      return 0;
    }
    case 'add': {
      const old = store.get(cmd.fingerprint);
      const d = store.add({
        fingerprint: cmd.fingerprint,
        name: cmd.name ?? old?.name ?? '',
        permissions: cmd.permissions,
      });
      out(`${old ? 'updated' : 'trusted'} ${describePeer(d.name, d.deviceId)}: may ${permissionsText(d.permissions)}`);
      return 0;
    }
    case 'set': {
      const id = formatDeviceId(cmd.fingerprint);
      if (!store.get(cmd.fingerprint)) throw notTrusted(id, cmd.home);
      if (cmd.name !== undefined) store.rename(id, cmd.name);
      const d = Object.keys(cmd.permissions).length > 0 ? store.update(id, cmd.permissions) : store.get(id)!;
      out(`${describePeer(d.name, d.deviceId)}: may ${permissionsText(d.permissions)}`);
      return 0;
    }
    case 'rm': {
      const id = formatDeviceId(cmd.fingerprint);
      const d = store.get(cmd.fingerprint);
      if (!d || !store.remove(id)) throw notTrusted(id, cmd.home);
      out(`removed ${describePeer(d.name, d.deviceId)}`);
      return 0;
    }
  }
}

function notTrusted(id: string, home: string): FerryError {
  return new FerryError('FERRY_ERR_NOT_FOUND', `${id} is not a trusted device of ${home} (see "ferry trust ls")`);
}

/** Options a trust action does not take are a usage error, not silently ignored. */
export function checkTrustOptions(action: string, given: string[]): void {
  const allowed: Record<string, string[]> = {
    ls: ['json'],
    add: ['name', 'browse', 'send', 'auto-accept'],
    set: ['name', 'browse', 'send', 'auto-accept'],
    rm: [],
  };
  const bad = given.find((o) => !(allowed[action] ?? []).includes(o));
  if (bad) throw new UsageError(`"ferry trust ${action}" takes no --${bad}`, 'trust');
}
