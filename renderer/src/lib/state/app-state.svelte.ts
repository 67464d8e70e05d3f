/**
 * The app as the renderer sees it, built from the engine's events and answers: this device, the
 * peers, the transfers, what is selected, the last error. One class turns the event stream into
 * reactive state; per-block live data goes to a plain LiveBuffer, never into $state.
 */
import { SvelteMap } from 'svelte/reactivity';
import type {
  DeviceSettings,
  DeviceState,
  LiveSnapshot,
  PeerState,
  TransferView,
} from '../../../../shared/contract.js';
import type { ErrorInfo } from '../../../../shared/errors.js';
import type { SocketInfo } from '../../../../shared/events.js';
import type { Bridge, ConnectionState } from '../bridge.js';
import { toInfo } from '../errors.js';
import { LiveBuffer } from '../live/live-buffer.js';
import { FINISHED } from '../transfer-view.js';
import { BrowseState } from './browse-state.svelte.js';
import { TrustState } from './trust-state.svelte.js';
import { Uploads } from './uploads.js';

export class AppState {
  readonly bridge: Bridge;
  readonly browse: BrowseState;
  readonly uploads: Uploads;
  readonly trust: TrustState;
  readonly live = new LiveBuffer();
  #device = $state.raw<DeviceState | null>(null);
  #peers = $state.raw<PeerState[]>([]);
  readonly #transfers = new SvelteMap<string, TransferView>();
  #selectedPeerId = $state<string | null>(null);
  #selectedTransferId = $state<string | null>(null);
  #error = $state.raw<ErrorInfo | null>(null);
  #connection = $state<ConnectionState>('open');
  /** Bumped when a live snapshot of the viewed transfer arrives: the socket lanes re-read. */
  #liveTick = $state(0);
  #unsubscribe: (() => void)[] = [];

  #transferList = $derived(
    [...this.#transfers.values()].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
  );
  #liveId = $derived.by(() => {
    const chosen = this.#selectedTransferId;
    if (chosen && this.#transfers.has(chosen)) return chosen;
    const list = this.#transferList;
    // Else the one moving, else one waiting, else the newest: a finished transfer's last
    // picture stays in view rather than vanishing the moment it ends.
    return (
      (
        list.find((t) => t.state === 'running' || t.state === 'verifying') ??
        list.find((t) => !FINISHED.has(t.state)) ??
        list[0]
      )?.id ?? null
    );
  });
  #liveSockets = $derived.by((): SocketInfo[] => {
    void this.#liveTick;
    return this.#liveId ? this.live.sockets(this.#liveId) : [];
  });

  constructor(bridge: Bridge) {
    this.bridge = bridge;
    this.browse = new BrowseState(bridge);
    this.uploads = new Uploads(bridge, (err) => this.report(err));
    this.trust = new TrustState(
      bridge,
      (err) => this.report(err),
      (peer) => this.#updatePeer(peer),
    );
  }

  get device(): DeviceState | null {
    return this.#device;
  }
  get peers(): PeerState[] {
    return this.#peers;
  }
  get transfers(): TransferView[] {
    return this.#transferList;
  }
  transfer(id: string): TransferView | undefined {
    return this.#transfers.get(id);
  }
  get selectedPeerId(): string | null {
    return this.#selectedPeerId;
  }
  get selectedPeer(): PeerState | null {
    return this.#peers.find((p) => p.id === this.#selectedPeerId) ?? null;
  }
  get selectedTransferId(): string | null {
    return this.#selectedTransferId;
  }
  /** The transfer the live view shows: the chosen one, else the one running. */
  get liveId(): string | null {
    return this.#liveId;
  }
  get liveSockets(): SocketInfo[] {
    return this.#liveSockets;
  }
  get error(): ErrorInfo | null {
    return this.#error;
  }
  get connection(): ConnectionState {
    return this.#connection;
  }

  /** Listen to the engine and load everything; returns when loaded. */
  async start(): Promise<void> {
    const b = this.bridge;
    this.#unsubscribe.push(
      b.on('device', (d) => (this.#device = d)),
      b.on('peers', (p) => this.#setPeers(p)),
      b.on('transfer', (t) => this.#onTransfer(t)),
      b.on('live', (s) => this.#onLive(s)),
      ...this.trust.listen(),
    );
    if (b.onConnection) {
      this.#unsubscribe.push(
        b.onConnection((state) => {
          const was = this.#connection;
          this.#connection = state;
          // Events were missed while the socket was down: load everything again.
          if (state === 'open' && was === 'closed') void this.reload();
        }),
      );
    }
    await this.reload();
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  async reload(): Promise<void> {
    await this.#act(async () => {
      const [device, peers, transfers] = await Promise.all([
        this.bridge.request('device.get', null),
        this.bridge.request('peers.list', null),
        this.bridge.request('transfers.list', null),
      ]);
      this.#device = device;
      this.#setPeers(peers);
      this.#replaceTransfers(transfers);
      await this.trust.load();
    });
  }

  report(err: unknown): void {
    this.#error = toInfo(err);
  }

  dismissError(): void {
    this.#error = null;
  }

  // ---- this device ---------------------------------------------------------------------------

  /** Change settings; false (and the error shown) when the engine refused. */
  async updateDevice(patch: DeviceSettings): Promise<boolean> {
    const d = await this.#act(() => this.bridge.request('device.update', patch));
    if (d) this.#device = d;
    return !!d;
  }

  /** Electron: pick a folder with the system dialog and use it. */
  async chooseFolder(which: 'sharedFolder' | 'downloadFolder'): Promise<void> {
    const title = which === 'sharedFolder' ? 'Choose the folder to share' : 'Choose where downloads go';
    const folder = await this.#act(() => this.bridge.request('dialog.chooseFolder', { title }));
    if (folder) await this.updateDevice({ [which]: folder });
  }

  // ---- peers ---------------------------------------------------------------------------------

  /** Add a peer by a checked address; the engine's answer, or throws its error. */
  async addPeer(address: string): Promise<PeerState> {
    const peer = await this.bridge.request('peers.add', { address });
    this.#upsertPeer(peer);
    return peer;
  }

  async removePeer(id: string): Promise<void> {
    await this.#act(async () => {
      await this.bridge.request('peers.remove', { id });
      this.#setPeers(this.#peers.filter((p) => p.id !== id));
    });
  }

  async checkPeer(id: string): Promise<void> {
    const p = await this.#act(() => this.bridge.request('peers.check', { id }));
    if (p) this.#updatePeer(p);
  }

  /** Select a peer; a paired one is browsed (an unpaired one shows "Pair first" instead). */
  selectPeer(id: string): void {
    this.#selectedPeerId = id;
    const peer = this.#peers.find((p) => p.id === id);
    if (peer && !peer.trusted) this.browse.close();
    else void this.browse.open(id, '');
  }

  // ---- transfers -----------------------------------------------------------------------------

  async download(): Promise<void> {
    const peer = this.browse.peerId;
    const paths = this.browse.selectedPaths;
    if (!peer || paths.length === 0) return;
    const t = await this.#act(() => this.bridge.request('transfers.download', { peer, paths }));
    if (t) this.#transfers.set(t.id, t);
  }

  /** Send what was dropped on a peer (to its top) or on the open folder. */
  async drop(peer: string, to: string, dt: DataTransfer): Promise<void> {
    const t = await this.uploads.drop(peer, to, dt);
    if (t) this.#transfers.set(t.id, t);
  }

  /** Send files picked with the page's file inputs (browser shell). */
  async sendFiles(peer: string, to: string, files: File[]): Promise<void> {
    const t = await this.uploads.files(peer, to, files);
    if (t) this.#transfers.set(t.id, t);
  }

  /** Send files or a folder picked with the system dialog (Electron). */
  async sendChosen(peer: string, to: string, what: 'files' | 'folder'): Promise<void> {
    const t = await this.uploads.choose(peer, to, what);
    if (t) this.#transfers.set(t.id, t);
  }

  async control(action: 'pause' | 'resume' | 'cancel' | 'retry', id: string): Promise<void> {
    await this.#act(() => this.bridge.request(`transfers.${action}`, { id }));
  }

  async clearFinished(): Promise<void> {
    await this.#act(async () => {
      await this.bridge.request('transfers.clear', null);
      this.#replaceTransfers(await this.bridge.request('transfers.list', null));
    });
  }

  selectTransfer(id: string | null): void {
    this.#selectedTransferId = id === this.#selectedTransferId ? null : id;
  }

  /** Load the whole live picture of a transfer (when its view opens). */
  async loadLive(id: string): Promise<void> {
    try {
      const s = await this.bridge.request('live.get', { id });
      if (s) this.#onLive(s);
    } catch {
      // The view simply stays empty: the transfer may have been cleared meanwhile.
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  async #act<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      this.report(err);
      return undefined;
    }
  }

  #onTransfer(t: TransferView): void {
    const before = this.#transfers.get(t.id);
    this.#transfers.set(t.id, t);
    // An upload to the peer being browsed just ended: its folder may show new files.
    const ended = FINISHED.has(t.state) && (!before || !FINISHED.has(before.state));
    if (ended && t.direction === 'upload' && !t.incoming && this.selectedPeer?.address === t.peer)
      void this.browse.refresh();
  }

  #onLive(s: LiveSnapshot): void {
    this.live.push(s);
    if (s.id === this.#liveId) this.#liveTick++;
  }

  #setPeers(peers: PeerState[]): void {
    const before = this.selectedPeer;
    this.#peers = peers;
    const now = this.selectedPeer;
    if (this.#selectedPeerId && !now) {
      this.#selectedPeerId = null;
      this.browse.close();
    } else if (now?.trusted && !before?.trusted && now.address) {
      // Just paired with the peer on screen: show its folder.
      void this.browse.open(now.id, '');
    }
  }

  /** A newer state of a peer already listed (a peer no longer listed stays gone). */
  #updatePeer(peer: PeerState): void {
    if (this.#peers.some((p) => p.id === peer.id))
      this.#setPeers(this.#peers.map((p) => (p.id === peer.id ? peer : p)));
  }

  #upsertPeer(peer: PeerState): void {
    const i = this.#peers.findIndex((p) => p.id === peer.id);
    this.#peers = i < 0 ? [...this.#peers, peer] : this.#peers.map((p) => (p.id === peer.id ? peer : p));
  }

  #replaceTransfers(list: TransferView[]): void {
    const keep = new Set(list.map((t) => t.id));
    for (const id of [...this.#transfers.keys()]) {
      if (!keep.has(id)) {
        this.#transfers.delete(id);
        this.live.forget(id);
      }
    }
    for (const t of list) this.#transfers.set(t.id, t);
  }
}
