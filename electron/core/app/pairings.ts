/**
 * Pairings as the UI shows them, both ways: an incoming one (a peer asked this device's server)
 * is shown with its code and waits for the person to approve or decline; an outgoing one (the
 * person here asked a peer) is shown with its code while the other screen decides, and may be
 * cancelled. Each is one PairingView, sent when its code is known and again when it ends.
 * The construction and its reasoning are in docs/security.md; trusting the peer on acceptance
 * is done by the engine (server.ts for incoming, client.ts for outgoing).
 */
import type { PairingView, PeerPermissions } from '../../../shared/contract.js';
import { FerryError, toErrorInfo } from '../../../shared/errors.js';
import type { PairingInitiator } from '../pairing.js';
import type { IncomingPairing } from '../server.js';

interface Entry {
  view: PairingView;
  /** Outgoing only: the peer list entry it was started from. */
  peerId?: string;
  answer(approve: boolean, permissions?: Partial<PeerPermissions>): void;
}

let nextPairing = 1;

export class Pairings {
  private readonly waiting = new Map<string, Entry>();

  /** `emit` receives every view: when a pairing starts waiting and when it ends. */
  constructor(private readonly emit: (view: PairingView) => void) {}

  /** A peer asked to pair: show it once the code is known. */
  incoming(p: IncomingPairing): void {
    const id = `pair${nextPairing++}`;
    p.code.then(
      (code) => {
        const view: PairingView = {
          id,
          direction: 'incoming',
          peerName: p.peer.name,
          peerDeviceId: p.peer.deviceId,
          address: p.peer.address,
          code,
          state: 'waiting',
        };
        this.waiting.set(id, {
          view,
          answer: (approve, permissions) => (approve ? p.approve(permissions) : p.decline()),
        });
        this.emit(view);
      },
      () => undefined, // ended before a code: nothing was shown, nothing to say
    );
    p.result.then(
      (outcome) => this.end(id, outcome),
      (err: unknown) => this.end(id, 'failed', err),
    );
  }

  /**
   * This device asked `peer` to pair: resolves with the view once the code is known, or
   * rejects when the pairing ended first (declined: FERRY_ERR_DECLINED).
   */
  async outgoing(
    initiator: PairingInitiator,
    peer: { id: string; name: string; deviceId: string; address: string },
  ): Promise<PairingView> {
    const id = `pair${nextPairing++}`;
    let code: string;
    try {
      code = await initiator.code;
    } catch (err) {
      const outcome = await initiator.result.catch(() => undefined);
      if (outcome === 'declined') {
        throw new FerryError('FERRY_ERR_DECLINED', `${peer.name} declined to pair with this device`, { cause: err });
      }
      throw err;
    }
    const view: PairingView = {
      id,
      direction: 'outgoing',
      peerName: peer.name,
      peerDeviceId: peer.deviceId,
      address: peer.address,
      code,
      state: 'waiting',
    };
    this.waiting.set(id, {
      view,
      peerId: peer.id,
      answer: (approve) => {
        if (approve) {
          throw new FerryError(
            'FERRY_ERR_BAD_ARGUMENT',
            `Only ${peer.name} can approve this pairing: check that its screen shows ${code}`,
          );
        }
        initiator.cancel();
      },
    });
    this.emit(view);
    initiator.result.then(
      (outcome) => this.end(id, outcome),
      (err: unknown) => this.end(id, 'failed', err),
    );
    return view;
  }

  /** The outgoing pairing waiting on this peer list entry, if any. */
  outgoingFor(peerId: string): PairingView | undefined {
    for (const e of this.waiting.values()) if (e.peerId === peerId) return { ...e.view };
    return undefined;
  }

  /** Approve or decline an incoming pairing; decline (cancel) an outgoing one. */
  answer(id: string, approve: boolean, permissions?: Partial<PeerPermissions>): void {
    const e = this.waiting.get(id);
    if (!e) {
      throw new FerryError(
        'FERRY_ERR_NOT_FOUND',
        'That pairing is no longer waiting: it was answered, cancelled or timed out. Start it again to pair.',
      );
    }
    e.answer(approve, permissions);
  }

  /** The pairings waiting for an answer. */
  list(): PairingView[] {
    return [...this.waiting.values()].map((e) => ({ ...e.view }));
  }

  /** Shutting down: decline what waits here, cancel what waits there. */
  close(): void {
    for (const e of [...this.waiting.values()]) {
      try {
        e.answer(false);
      } catch {
        // ended meanwhile
      }
    }
  }

  private end(id: string, state: PairingView['state'], err?: unknown): void {
    const e = this.waiting.get(id);
    if (!e) return;
    this.waiting.delete(id);
    this.emit({ ...e.view, state, ...(err !== undefined ? { error: toErrorInfo(err) } : {}) });
  }
}
