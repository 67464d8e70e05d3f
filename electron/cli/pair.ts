/**
 * `ferry pair PEER`: ask a peer to pair, from a terminal (docs/security.md, "Pairing"). This side
 * is the initiator: it shows the peer's name, device ID and the 6-digit code, and the person at
 * the peer (ferry serve in a terminal, or the app) compares the code and approves there. This is
 * the flow that works without a screen on one side.
 *
 * stdout: `name: NAME`, `device ID: ID`, `code: NNNNNN`, then `paired with NAME (ID)`; the
 * instruction to compare goes to stderr. Ctrl-C cancels the pairing on both sides (exit 130).
 */
import { FerryError } from '../../shared/errors.js';
import type { PeerAddress } from '../../shared/peer-address.js';
import type { FerryClient } from '../core/client.js';
import type { PairingInitiator } from '../core/pairing.js';
import { connect, type LocalDevice } from './device.js';
import { err, out, safeName } from './output.js';
import { Interrupt, Interrupted } from './signals.js';

/** How long a cancel waits for the peer to have read it before the connection closes. */
const CANCEL_CONFIRM_MS = 1000;

export async function pair(peer: PeerAddress, dev: LocalDevice): Promise<number> {
  const stop = new Interrupt();
  let client: FerryClient | undefined;
  let pairing: PairingInitiator | undefined;
  try {
    client = await stop.race(connect(dev, peer, []));
    const name = safeName(client.peerName) || '(unnamed)';
    const id = client.peerDeviceId;
    out(`name: ${name}`);
    out(`device ID: ${id}`);
    pairing = client.pair();
    const p = pairing;
    const code = await stop.race(
      p.code.catch(async (e: unknown) => {
        // Declined before the code existed (a server with nobody to ask declines at once).
        const outcome = await p.result.catch(() => undefined);
        throw outcome === 'declined' ? declined(name) : e;
      }),
    );
    out(`code: ${code}`);
    err(`compare this code with the one shown on ${name} and approve there`);
    const outcome = await stop.race(p.result);
    if (outcome !== 'accepted') throw declined(name);
    out(`paired with ${name} (${id})`);
    return 0;
  } catch (e) {
    if (e instanceof Interrupted && pairing && client) {
      pairing.cancel();
      // The cancel goes out on the control connection; a ping behind it returns once it is read.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.ping().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CANCEL_CONFIRM_MS))),
      ]);
      clearTimeout(timer);
    }
    throw e;
  } finally {
    await client?.closeGracefully();
    stop.dispose();
  }
}

function declined(name: string): FerryError {
  return new FerryError('FERRY_ERR_DECLINED', `${name} declined the pairing`);
}
