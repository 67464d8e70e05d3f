/**
 * Pairing and what paired peers may do, as the renderer sees it: the pairing shown in the
 * dialog (one at a time, the oldest waiting first), the uploads waiting for an answer, and the
 * requests that change trust. The engine's 'pairing' and 'upload-request' events feed it.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { PairingView, PeerPermissions, PeerState, UploadRequestView } from '../../../../shared/contract.js';
import type { Bridge } from '../bridge.js';

export class TrustState {
  readonly #bridge: Bridge;
  readonly #report: (err: unknown) => void;
  readonly #onPeer: (peer: PeerState) => void;
  /** Pairings to show: waiting ones, and ended ones until the person closes them. */
  readonly #pairings = new SvelteMap<string, PairingView>();
  readonly #uploads = new SvelteMap<string, UploadRequestView>();
  /** Peers a "Pair" was clicked for, until the code is known. */
  readonly #starting = new SvelteSet<string>();
  /** Pairings that ended here (or were closed): a late event must not bring them back. */
  readonly #over = new Set<string>();
  #shown = $derived.by((): PairingView | null => {
    const all = [...this.#pairings.values()];
    return all.find((p) => p.state === 'waiting') ?? all[0] ?? null;
  });
  #requests = $derived([...this.#uploads.values()].sort((a, b) => a.expiresAt - b.expiresAt));

  constructor(bridge: Bridge, report: (err: unknown) => void, onPeer: (peer: PeerState) => void) {
    this.#bridge = bridge;
    this.#report = report;
    this.#onPeer = onPeer;
  }

  /** The pairing the dialog shows, if any. */
  get pairing(): PairingView | null {
    return this.#shown;
  }
  /** Uploads waiting for an answer, the one that expires first first. */
  get uploadRequests(): UploadRequestView[] {
    return this.#requests;
  }
  /** True while a pairing with this peer is being asked for (before its code is known). */
  starting(peerId: string): boolean {
    return this.#starting.has(peerId);
  }

  /** Listen to the engine; returns the unsubscribes. */
  listen(): (() => void)[] {
    return [
      this.#bridge.on('pairing', (v) => this.onPairing(v)),
      this.#bridge.on('upload-request', (v) => this.onUploadRequest(v)),
    ];
  }

  /** What waits already (a page opened, or reconnected, while a prompt was up). */
  async load(): Promise<void> {
    const [pairings, uploads] = await Promise.all([
      this.#bridge.request('pairing.list', null),
      this.#bridge.request('uploads.requests', null),
    ]);
    for (const id of [...this.#pairings.keys()]) {
      if (this.#pairings.get(id)?.state === 'waiting' && !pairings.some((p) => p.id === id)) this.#pairings.delete(id);
    }
    for (const p of pairings) this.onPairing(p);
    this.#uploads.clear();
    for (const u of uploads) this.onUploadRequest(u);
  }

  onPairing(v: PairingView): void {
    if (this.#over.has(v.id)) return;
    if (v.state === 'waiting') {
      this.#pairings.set(v.id, v);
      return;
    }
    this.#over.add(v.id);
    // Accepted: nothing more to read, the peer now shows as paired. Otherwise say what happened.
    if (v.state === 'accepted') this.#pairings.delete(v.id);
    else this.#pairings.set(v.id, v);
  }

  onUploadRequest(v: UploadRequestView): void {
    if (v.state === 'waiting') this.#uploads.set(v.id, v);
    else this.#uploads.delete(v.id);
  }

  /** Ask a peer to pair; the dialog opens with the code. */
  async pair(peer: PeerState): Promise<void> {
    if (this.#starting.has(peer.id)) return;
    this.#starting.add(peer.id);
    try {
      const r = await this.#bridge.request('peers.pair', { id: peer.id });
      // The event normally came first; if not, show the answer (unless it already ended).
      if (!this.#pairings.has(r.pairingId) && !this.#over.has(r.pairingId)) {
        this.#pairings.set(r.pairingId, {
          id: r.pairingId,
          direction: 'outgoing',
          peerName: r.peerName,
          peerDeviceId: r.peerDeviceId,
          address: peer.address,
          code: r.code,
          state: 'waiting',
        });
      }
    } catch (err) {
      this.#report(err);
    } finally {
      this.#starting.delete(peer.id);
    }
  }

  /** Approve or decline an incoming pairing. */
  async answer(id: string, approve: boolean): Promise<void> {
    try {
      await this.#bridge.request('pairing.answer', { id, approve });
    } catch (err) {
      this.#pairings.delete(id);
      this.#over.add(id);
      this.#report(err);
    }
  }

  /** Cancel an outgoing pairing: the dialog closes at once, the other screen is told. */
  async cancel(id: string): Promise<void> {
    this.close(id);
    try {
      await this.#bridge.request('pairing.answer', { id, approve: false });
    } catch {
      // It had ended already: nothing left to cancel.
    }
  }

  /** Close an ended pairing's dialog. */
  close(id: string): void {
    this.#over.add(id);
    this.#pairings.delete(id);
  }

  async answerUpload(id: string, accept: boolean): Promise<void> {
    try {
      await this.#bridge.request('uploads.answer', { id, accept });
      this.#uploads.delete(id);
    } catch (err) {
      this.#uploads.delete(id);
      this.#report(err);
    }
  }

  /** Change what a paired peer may do. */
  async setPermissions(peerId: string, patch: Partial<PeerPermissions>): Promise<void> {
    try {
      this.#onPeer(await this.#bridge.request('peers.permissions', { id: peerId, ...patch }));
    } catch (err) {
      this.#report(err);
    }
  }

  /** Forget a paired peer ("Forget"): it may no longer browse or send here. */
  async untrust(peerId: string): Promise<void> {
    try {
      this.#onPeer(await this.#bridge.request('peers.untrust', { id: peerId }));
    } catch (err) {
      this.#report(err);
    }
  }
}
