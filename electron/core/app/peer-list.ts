/**
 * The peer list the UI shows, made from three sources that may name the same device:
 *
 * - the peers the person added by address (saved in the settings, each with the device ID seen
 *   there pinned once it answered);
 * - the trusted devices (the trust store): a device that paired with us appears even when we
 *   never added it, without an address ('t-' + its device ID) until one is known;
 * - the devices heard nearby (discovery): listed with the address they announce ('d-' + their
 *   device ID), marked `discovered`, and never trusted by being heard.
 *
 * One device appears once: by its added entry if there is one, else as trusted, else as nearby.
 */
import type { PeerState } from '../../../shared/contract.js';
import type { TrustedDevice } from '../identity/index.js';

/** A peer added by address, as the app keeps it between checks. */
export interface PeerRecord {
  id: string;
  address: string;
  name?: string;
  deviceId?: string;
  online: boolean;
  error?: PeerState['error'];
  checkedAt?: number;
}

/** A device heard on the network, its claimed ID already checked for form. */
export interface NearbyDevice {
  deviceId: string;
  name: string;
  /** host:port it announced. */
  address: string;
}

export const TRUSTED_ID_PREFIX = 't-';
export const NEARBY_ID_PREFIX = 'd-';

export function mergePeers(
  records: Iterable<PeerRecord>,
  trusted: TrustedDevice[],
  nearby: NearbyDevice[],
): PeerState[] {
  const trust = new Map(trusted.map((t) => [t.deviceId, t]));
  const heard = new Map(nearby.map((n) => [n.deviceId, n]));
  const shown = new Set<string>();
  const out: PeerState[] = [];
  const trustOf = (deviceId: string | undefined): Pick<PeerState, 'trusted' | 'permissions'> => {
    const t = deviceId ? trust.get(deviceId) : undefined;
    return t ? { trusted: true, permissions: { ...t.permissions } } : { trusted: false };
  };
  for (const r of records) {
    out.push({
      ...r,
      ...trustOf(r.deviceId),
      ...(r.deviceId && heard.has(r.deviceId) ? { discovered: true } : {}),
    });
    if (r.deviceId) shown.add(r.deviceId);
  }
  for (const t of trusted) {
    if (shown.has(t.deviceId)) continue;
    shown.add(t.deviceId);
    const n = heard.get(t.deviceId);
    out.push({
      id: TRUSTED_ID_PREFIX + t.deviceId,
      address: n?.address ?? '',
      name: t.name || n?.name || t.deviceId.slice(0, 7),
      deviceId: t.deviceId,
      ...trustOf(t.deviceId),
      ...(n ? { discovered: true } : {}),
      online: !!n,
    });
  }
  for (const n of nearby) {
    if (shown.has(n.deviceId)) continue;
    shown.add(n.deviceId);
    out.push({
      id: NEARBY_ID_PREFIX + n.deviceId,
      address: n.address,
      name: n.name,
      deviceId: n.deviceId,
      trusted: false,
      discovered: true,
      online: true,
    });
  }
  return out;
}
