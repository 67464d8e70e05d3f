/** This device's name and id as it says hello. (Cryptographic identity comes with TLS pairing.) */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';

export interface DeviceIdentity {
  name: string;
  device: string;
}

export function defaultIdentity(): DeviceIdentity {
  return { name: os.hostname() || 'ferry', device: randomBytes(8).toString('hex') };
}

/** Capabilities this build advertises in its hello. */
export const CAPABILITIES = ['blocks-xxh64x2', 'resume', 'multi-socket', 'list-parts'];
