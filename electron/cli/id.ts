/** `ferry id`: this device's ID, and nothing else on stdout (for scripts: `--trust "$(ferry id)"`). */
import { loadOrCreateIdentity } from '../core/identity/index.js';
import { out } from './output.js';

export async function id(home: string): Promise<number> {
  const identity = await loadOrCreateIdentity(home);
  out(identity.deviceId);
  return 0;
}
