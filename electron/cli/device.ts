/**
 * This device, as every command sees it: the home folder (--home, $FERRY_HOME, or the platform's
 * config folder), the identity in it (made on first run; a damaged one is an error, never
 * replaced), the trusted devices list, and the name it says hello with. Also how a client
 * command connects (always TLS, with --trust pinning the peer) and how a refusal is put into
 * words from this side's point of view.
 */
import { FerryError } from '../../shared/errors.js';
import { formatPeerAddress, type PeerAddress } from '../../shared/peer-address.js';
import { loadSettings } from '../core/app/settings.js';
import { type ConnectOptions, FerryClient } from '../core/client.js';
import { type Identity, loadOrCreateIdentity, TrustStore } from '../core/identity/index.js';
import { err, oneLine, safeName } from './output.js';

export interface LocalDevice {
  home: string;
  identity: Identity;
  trust: TrustStore;
  /** The name this device says hello with (the app's setting for this home, else the host name). */
  name: string;
}

/** The trusted devices list of `home`, its warnings (a damaged file set aside) on stderr. */
export function openTrust(home: string): TrustStore {
  const trust = TrustStore.load(home);
  if (trust.warning) err(`warning: ${oneLine(trust.warning)}`);
  trust.on('warning', (w) => err(`warning: ${oneLine(w)}`));
  return trust;
}

/** Load (or, on first run, make) this device's identity and its trusted devices. */
export async function openDevice(home: string): Promise<LocalDevice> {
  const identity = await loadOrCreateIdentity(home);
  const trust = openTrust(home);
  return { home, identity, trust, name: loadSettings(home).name };
}

/**
 * Connection options of a client command: TLS with this device's identity. `pinned` (from
 * `--trust`) are the only devices the connection may be with, and count as trusted for this run;
 * without them, the home's trusted devices decide what may be listed, sent or fetched.
 */
export function clientOptions(dev: LocalDevice, pinned: Buffer[]): ConnectOptions {
  return {
    identity: { name: dev.name, device: dev.identity.deviceId },
    tls: { identity: dev.identity, trust: dev.trust, ...(pinned.length > 0 ? { expect: pinned } : {}) },
  };
}

export function connect(dev: LocalDevice, peer: PeerAddress, pinned: Buffer[]): Promise<FerryClient> {
  return FerryClient.connect(peer, clientOptions(dev, pinned));
}

/** `NAME (DEVICE-ID)`, the name made safe for a terminal (it comes from the peer). */
export function describePeer(name: string, deviceId: string): string {
  return `${safeName(name) || '(unnamed)'} (${deviceId})`;
}

/**
 * A refusal in words for the person at this end. This side checks its own trust before asking
 * anything, so a FERRY_ERR_NOT_TRUSTED that arrives while this side trusts the peer came from the
 * peer, written from its point of view ("This device has not been paired with <us>"): say who
 * refused and what to do here instead.
 */
export function explainRefusal(e: FerryError, client: FerryClient, dev: LocalDevice): FerryError {
  if (e.code !== 'FERRY_ERR_NOT_TRUSTED' || !client.peerTrusted) return e;
  const where = formatPeerAddress(client.address);
  const peer = `${safeName(client.peerName)} at ${where}`;
  if (/not been paired/.test(e.message)) {
    return new FerryError(
      'FERRY_ERR_NOT_TRUSTED',
      `${peer} does not trust this device (${dev.identity.deviceId}) yet: pair the two devices first (ferry pair ${where}, approved there), or run ferry serve there with --trust ${dev.identity.deviceId}`,
      { cause: e },
    );
  }
  return new FerryError('FERRY_ERR_NOT_TRUSTED', `${peer} refused: ${e.message}`, { cause: e });
}
