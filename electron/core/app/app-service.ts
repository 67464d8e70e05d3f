/**
 * The app service: everything a person can do with Ferry, once, for every shell (Electron,
 * browser, and tests). It owns this device's identity and trusted devices, the server, the peer
 * list, the connections to peers, pairings, upload requests and the transfer list, persists
 * settings, and emits the contract's events, coalesced for a UI.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  DeviceSettings,
  DeviceState,
  Events,
  LiveSnapshot,
  PairingView,
  PeerPermissions,
  PeerState,
  StreamedEntry,
  TransferView,
  UploadRequestView,
} from '../../../shared/contract.js';
import { FerryError, toErrorInfo } from '../../../shared/errors.js';
import { labelFor } from '../../../shared/format.js';
import { formatPeerAddress, parsePeerAddress } from '../../../shared/peer-address.js';
import type { ConflictPolicy, RemoteEntry } from '../../../shared/types.js';
import { FerryClient } from '../client.js';
import { Discovery, type DiscoveryOptions } from '../discovery.js';
import { fsError } from '../fs-guard.js';
import type { DeviceIdentity } from '../identity.js';
import {
  type Identity,
  isDeviceId,
  loadOrCreateIdentity,
  normalizeDeviceId,
  parseDeviceId,
  TrustStore,
} from '../identity/index.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import { FerryServer } from '../server.js';
import { reachableAddresses } from './addresses.js';
import { Pairings } from './pairings.js';
import { mergePeers, type NearbyDevice, type PeerRecord } from './peer-list.js';
import { loadSettings, saveSettings, type StoredSettings } from './settings.js';
import type { StreamReader } from './streamed.js';
import { Throttle } from './throttle.js';
import { refusedBy, TransferJobs } from './transfer-jobs.js';
import { UploadRequests } from './upload-requests.js';

export type { StreamReader } from './streamed.js';

export interface AppOptions {
  home: string;
  /** Settings used where the settings file has none (first run, tests). */
  defaults?: Partial<StoredSettings>;
  /** How often peers are checked, ms (0: never; tests call checkPeer). */
  peerCheckMs?: number;
  /** How many outgoing transfers run at once; the rest wait as 'queued'. */
  maxRunning?: number;
  /** How long an upload waits for the person's answer before it is declined (default 60 s). */
  askTimeoutMs?: number;
  /**
   * LAN discovery: false turns it off whatever the settings say (tests that count peers);
   * an object overrides options (another UDP port or group, faster timers, one interface).
   */
  discovery?: false | Partial<Omit<DiscoveryOptions, 'port' | 'name' | 'deviceId' | 'protocolVersion'>>;
}

/** An upload asks the person for a minute: long enough to look, short enough for the sender. */
const ASK_TIMEOUT_MS = 60_000;
/**
 * The server's own timeout runs this much longer than ours, so that ours decides (and the UI is
 * told the request expired); the server's is the backstop.
 */
const ASK_GRACE_MS = 2_000;

export class FerryApp extends EventEmitter<{ [K in keyof Events]: [Events[K]] }> {
  private settings: StoredSettings;
  private server: FerryServer | undefined;
  private serverError: FerryError | undefined;
  private discovery: Discovery | undefined;
  private discoveryWarning: string | undefined;
  /** What this device says in its hello: its name, and the device ID its certificate proves. */
  private readonly hello: DeviceIdentity;
  private readonly records = new Map<string, PeerRecord>();
  private readonly clients = new Map<string, Promise<FerryClient>>();
  private readonly jobs: TransferJobs;
  private peerTimer: NodeJS.Timeout | undefined;
  private readonly askTimeoutMs: number;
  private readonly pairings: Pairings;
  private readonly uploadRequests: UploadRequests;
  private readonly peersEmitter: Throttle;
  private closed = false;

  private constructor(
    private readonly opts: AppOptions,
    /** This device's key and certificate: every connection is TLS with it. */
    private readonly identity: Identity,
    /** The devices this one trusts, with what each may do (home/trusted.json). */
    private readonly trust: TrustStore,
  ) {
    super();
    this.settings = loadSettings(opts.home, opts.defaults);
    this.hello = { name: this.settings.name, device: identity.deviceId };
    this.jobs = new TransferJobs(
      {
        client: (peerId) => this.trustedClient(peerId),
        downloadFolder: () => this.settings.downloadFolder,
        emitTransfer: (v) => this.emit('transfer', v),
        emitLive: (snapshot) => this.emit('live', snapshot),
        wantsLive: () => this.listenerCount('live') > 0,
      },
      opts.maxRunning ?? 3,
    );
    this.askTimeoutMs = opts.askTimeoutMs ?? ASK_TIMEOUT_MS;
    for (const p of this.settings.peers) this.records.set(p.id, { ...p, online: false });
    this.pairings = new Pairings((v) => this.emit('pairing', v));
    this.uploadRequests = new UploadRequests((v) => this.emit('upload-request', v), this.askTimeoutMs);
    // Discovery and the trust store can change the list many times a second: coalesced.
    this.peersEmitter = new Throttle(10, () => this.emit('peers', this.peers()));
    trust.on('change', () => this.emitPeers());
    trust.on('warning', () => this.emit('device', this.device()));
  }

  /**
   * Load (or, on first run, make) this device's identity and its trusted devices, then start
   * serving. A damaged identity stops here with FERRY_ERR_IDENTITY: a silent new one would
   * break every pairing.
   */
  static async start(opts: AppOptions): Promise<FerryApp> {
    const identity = await loadOrCreateIdentity(opts.home);
    const trust = TrustStore.load(opts.home);
    const app = new FerryApp(opts, identity, trust);
    if (app.settings.serving) await app.startServer();
    const every = opts.peerCheckMs ?? 5000;
    if (every > 0) {
      app.peerTimer = setInterval(() => void app.checkAllPeers(), every);
      app.peerTimer.unref();
    }
    void app.checkAllPeers();
    return app;
  }

  // ---- this device -------------------------------------------------------------------------

  device(): DeviceState {
    const a = this.server?.address();
    const s = this.settings;
    const port = a?.port ?? s.port;
    const addresses = reachableAddresses(s.host, port);
    const warning = [this.trust.warning, this.discoveryWarning].filter(Boolean).join(' ');
    return {
      name: s.name,
      deviceId: this.identity.deviceId,
      host: a?.host ?? s.host,
      port,
      address: addresses[0]!,
      addresses,
      discovery: s.discovery,
      sharedFolder: s.sharedFolder,
      downloadFolder: s.downloadFolder,
      readOnly: s.readOnly,
      serving: !!this.server,
      ...(this.serverError ? { error: toErrorInfo(this.serverError) } : {}),
      ...(warning ? { warning } : {}),
    };
  }

  async updateDevice(patch: DeviceSettings): Promise<DeviceState> {
    const next = { ...this.settings };
    if (patch.name !== undefined) {
      const name = patch.name.trim();
      if (!name || name.length > 64)
        throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'A device name has 1 to 64 characters');
      next.name = name;
      this.hello.name = name;
    }
    for (const k of ['sharedFolder', 'downloadFolder'] as const) {
      const v = patch[k];
      if (v === undefined) continue;
      if (!path.isAbsolute(v)) throw new FerryError('FERRY_ERR_BAD_ARGUMENT', `Choose a full folder path, not "${v}"`);
      next[k] = v;
    }
    if (patch.readOnly !== undefined) next.readOnly = patch.readOnly;
    if (patch.serving !== undefined) next.serving = patch.serving;
    if (patch.discovery !== undefined) next.discovery = patch.discovery;
    if (patch.host !== undefined) next.host = patch.host;
    if (patch.port !== undefined) {
      if (!Number.isInteger(patch.port) || patch.port < 0 || patch.port > 65535) {
        throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'A port is a whole number from 1 to 65535');
      }
      next.port = patch.port;
    }
    const restart =
      next.serving !== this.settings.serving ||
      next.sharedFolder !== this.settings.sharedFolder ||
      next.readOnly !== this.settings.readOnly ||
      next.port !== this.settings.port ||
      next.host !== this.settings.host;
    const rediscover = next.discovery !== this.settings.discovery;
    const renamed = next.name !== this.settings.name;
    this.settings = next;
    this.save();
    if (restart) {
      await this.stopServer();
      if (next.serving) await this.startServer();
    } else if (rediscover) {
      await this.stopDiscovery();
      await this.startDiscovery();
    } else if (renamed) {
      await this.discovery?.update({ name: next.name }).catch(() => undefined);
    }
    const d = this.device();
    this.emit('device', d);
    return d;
  }

  private async startServer(): Promise<void> {
    const s = this.settings;
    this.serverError = undefined;
    try {
      await fs.promises.mkdir(s.sharedFolder, { recursive: true });
      const common = {
        root: s.sharedFolder,
        host: s.host,
        readOnly: s.readOnly,
        identity: this.hello,
        tls: { identity: this.identity, trust: this.trust },
        askTimeoutMs: this.askTimeoutMs + ASK_GRACE_MS,
      };
      try {
        this.server = await FerryServer.start({ ...common, port: s.port });
      } catch (err) {
        // The usual port is taken (a second Ferry on this machine): serve on any free one.
        if (!(err instanceof FerryError && err.code === 'FERRY_ERR_BAD_ARGUMENT')) throw err;
        this.server = await FerryServer.start({ ...common, port: 0 });
      }
      this.server.on('transfer', (t) => this.jobs.trackIncoming(t));
      this.server.on('pairing', (p) => this.pairings.incoming(p));
      this.server.on('upload', (u) => {
        const known = u.peer.fingerprint ? this.trust.get(u.peer.fingerprint) : undefined;
        this.uploadRequests.add(u, known?.name || u.peer.name);
      });
      // Warnings are the CLI's to print (listening beyond loopback...); the UI shows the state.
      this.server.on('warning', () => undefined);
    } catch (err) {
      this.server = undefined;
      this.serverError = err instanceof FerryError ? err : fsError(err, `sharing "${s.sharedFolder}"`);
    }
    await this.startDiscovery();
  }

  private async stopServer(): Promise<void> {
    await this.stopDiscovery();
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }

  /** Announce this device and listen for others, while serving and while the setting is on. */
  private async startDiscovery(): Promise<void> {
    this.discoveryWarning = undefined;
    if (this.opts.discovery === false || !this.settings.discovery || !this.server || this.closed) return;
    const d = new Discovery({
      ...(this.opts.discovery ?? {}),
      port: this.server.address().port,
      name: this.settings.name,
      deviceId: this.identity.deviceId,
      protocolVersion: PROTOCOL_VERSION,
    });
    d.on('peer', () => this.emitPeers());
    d.on('gone', () => this.emitPeers());
    d.on('warning', () => undefined);
    try {
      await d.start();
      this.discovery = d;
    } catch (err) {
      // Another program holds the discovery port: Ferry works, it just finds nobody by itself.
      this.discoveryWarning = `Nearby devices are not listed: ${toErrorInfo(err).message}`;
    }
  }

  private async stopDiscovery(): Promise<void> {
    const d = this.discovery;
    this.discovery = undefined;
    if (d) {
      d.removeAllListeners('peer');
      await d.stop().catch(() => undefined);
      this.emitPeers();
    }
  }

  private save(): void {
    this.settings.peers = [...this.records.values()].map((p) => ({
      id: p.id,
      address: p.address,
      ...(p.name ? { name: p.name } : {}),
      ...(p.deviceId ? { deviceId: p.deviceId } : {}),
    }));
    try {
      saveSettings(this.opts.home, this.settings);
    } catch {
      // Settings that cannot be saved are still in force for this run.
    }
  }

  // ---- peers -------------------------------------------------------------------------------

  /** The peers added by address, the trusted devices and the devices heard nearby, each once. */
  peers(): PeerState[] {
    return mergePeers(this.records.values(), this.trust.list(), this.nearby());
  }

  /** Devices heard nearby, with an ID of the right form that is not ours. */
  private nearby(): NearbyDevice[] {
    const out: NearbyDevice[] = [];
    for (const d of this.discovery?.peers() ?? []) {
      if (!isDeviceId(d.deviceId)) continue;
      const deviceId = normalizeDeviceId(d.deviceId);
      if (deviceId === this.identity.deviceId) continue;
      out.push({ deviceId, name: d.name, address: formatPeerAddress({ host: d.address, port: d.port }) });
    }
    return out;
  }

  private emitPeers(): void {
    if (!this.closed) this.peersEmitter.soon();
  }

  /** Add a peer by host:port. A bad address is refused; an unreachable one is added, offline, with the reason. */
  async addPeer(address: string): Promise<PeerState> {
    const addr = formatPeerAddress(parsePeerAddress(address));
    const existing = [...this.records.values()].find((p) => p.address === addr);
    if (existing) return this.checkPeer(existing.id);
    const id = `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    this.records.set(id, { id, address: addr, online: false });
    this.save();
    return this.checkPeer(id);
  }

  /**
   * Remove a peer from the list. A paired one is forgotten as well (it may no longer browse or
   * send here): otherwise it would stay in the list as a trusted device.
   */
  removePeer(id: string): void {
    const p = this.peer(id);
    const record = this.records.get(id);
    if (!record && !p.trusted) {
      throw new FerryError(
        'FERRY_ERR_UNSUPPORTED',
        `${p.name ?? p.address} is listed because it announces itself nearby; turn off nearby devices to hide it`,
      );
    }
    this.records.delete(id);
    this.dropClient(id);
    if (p.trusted && p.deviceId) this.trust.remove(p.deviceId);
    this.save();
    this.emitPeers();
  }

  private dropClient(id: string): void {
    void this.clients.get(id)?.then(
      (c) => c.close(),
      () => undefined,
    );
    this.clients.delete(id);
  }

  /** The peer as listed; FERRY_ERR_NOT_FOUND when it is not (any more). */
  private peer(id: string): PeerState {
    const p = this.peers().find((x) => x.id === id);
    if (!p) throw new FerryError('FERRY_ERR_NOT_FOUND', 'That peer is no longer in the list');
    return p;
  }

  /**
   * The record to connect with: an added peer as is; a nearby or trusted device with a known
   * address becomes an added peer (same id), its announced device ID pinned.
   */
  private record(id: string): PeerRecord {
    const r = this.records.get(id);
    if (r) return r;
    const p = this.peer(id);
    if (!p.address) {
      throw new FerryError(
        'FERRY_ERR_NOT_FOUND',
        `The address of ${p.name ?? 'this device'} is not known here: it paired with this device from its side. Add it by the address its Ferry shows.`,
      );
    }
    const made: PeerRecord = {
      id,
      address: p.address,
      online: false,
      ...(p.name ? { name: p.name } : {}),
      ...(p.deviceId ? { deviceId: p.deviceId } : {}),
    };
    this.records.set(id, made);
    this.save();
    return made;
  }

  /** A live connection to the peer, reused across requests and made again when it dropped. */
  private client(id: string): Promise<FerryClient> {
    const p = this.record(id);
    const cached = this.clients.get(id);
    if (cached) return cached;
    // The device ID seen here before is pinned: another certificate is refused, in words.
    const expect = p.deviceId ? [parseDeviceId(p.deviceId)] : undefined;
    const c = FerryClient.connect(p.address, {
      identity: this.hello,
      connectTimeoutMs: 4000,
      tls: { identity: this.identity, trust: this.trust, ...(expect ? { expect } : {}) },
    });
    this.clients.set(id, c);
    c.then(
      (client) => {
        client.session.once('close', () => this.clients.get(id) === c && this.clients.delete(id));
        const r = this.records.get(id);
        if (r && !r.deviceId) {
          r.deviceId = client.peerDeviceId;
          this.save();
          this.emitPeers();
        }
      },
      () => this.clients.delete(id),
    );
    return c;
  }

  /** A connection to a peer this device trusts; FERRY_ERR_NOT_TRUSTED ("Pair first") otherwise. */
  private async trustedClient(id: string): Promise<FerryClient> {
    const c = await this.client(id);
    if (!c.peerTrusted) throw pairFirst(c.peerName);
    return c;
  }

  async checkPeer(id: string): Promise<PeerState> {
    const r = this.records.get(id);
    if (!r) return this.peer(id); // trusted or nearby only: nothing to connect to yet
    const before = JSON.stringify({ ...r, checkedAt: 0 });
    try {
      const c = await this.client(id);
      await c.ping();
      r.name = c.peerName;
      r.online = true;
      delete r.error;
    } catch (err) {
      r.online = false;
      r.error = toErrorInfo(err);
    }
    r.checkedAt = Date.now();
    if (!this.records.has(id)) return this.peer(id);
    if (JSON.stringify({ ...r, checkedAt: 0 }) !== before) {
      this.save();
      this.emitPeers();
    }
    return this.peer(id);
  }

  private async checkAllPeers(): Promise<void> {
    await Promise.all([...this.records.keys()].map((id) => this.checkPeer(id).catch(() => undefined)));
  }

  // ---- trust -------------------------------------------------------------------------------

  /**
   * Ask the peer to pair. Resolves once both screens show the code; the outcome comes as a
   * 'pairing' event (and, accepted, the peer is trusted: client.ts records it).
   */
  async pair(id: string): Promise<{ pairingId: string; code: string; peerName: string; peerDeviceId: string }> {
    const waiting = this.pairings.outgoingFor(id);
    const view =
      waiting ??
      (await (async () => {
        const r = this.record(id);
        const c = await this.client(id);
        return this.pairings.outgoing(c.pair(), {
          id,
          name: c.peerName,
          deviceId: c.peerDeviceId,
          address: r.address,
        });
      })());
    return { pairingId: view.id, code: view.code, peerName: view.peerName, peerDeviceId: view.peerDeviceId };
  }

  answerPairing(id: string, approve: boolean, permissions?: Partial<PeerPermissions>): void {
    this.pairings.answer(id, approve, permissions);
  }

  pendingPairings(): PairingView[] {
    return this.pairings.list();
  }

  /** What this device lets a paired peer do. */
  setPermissions(id: string, patch: Partial<PeerPermissions>): PeerState {
    const p = this.peer(id);
    if (!p.trusted || !p.deviceId) {
      throw new FerryError(
        'FERRY_ERR_NOT_TRUSTED',
        `${p.name ?? p.address} is not paired with this device: pair it first`,
      );
    }
    this.trust.update(p.deviceId, patch);
    return this.peer(id);
  }

  /** Forget a paired peer: its next request is refused. It stays listed (if added), not paired. */
  untrust(id: string): PeerState {
    const p = this.peer(id);
    if (p.deviceId) this.trust.remove(p.deviceId);
    return this.peers().find((x) => x.id === id) ?? { ...p, trusted: false, permissions: undefined };
  }

  answerUpload(id: string, accept: boolean): void {
    this.uploadRequests.answer(id, accept);
  }

  pendingUploads(): UploadRequestView[] {
    return this.uploadRequests.list();
  }

  // ---- browsing ----------------------------------------------------------------------------

  async list(peerId: string, peerPath: string): Promise<RemoteEntry[]> {
    const p = this.usable(peerId);
    const c = await this.trustedClient(peerId);
    try {
      return await c.list(peerPath);
    } catch (err) {
      throw refusedBy(err, c.peerName || p.name || p.address);
    }
  }

  /**
   * A peer a transfer or a listing can start with: known to be paired (or not yet met: the
   * connection decides), with an address. Says what to do otherwise.
   */
  private usable(id: string): PeerState {
    const p = this.peer(id);
    if (p.deviceId && !p.trusted) throw pairFirst(p.name ?? p.address);
    this.record(id);
    return p;
  }

  // ---- transfers ---------------------------------------------------------------------------

  transfers(): TransferView[] {
    return this.jobs.list();
  }

  pause(id: string): void {
    this.jobs.pause(id);
  }

  resume(id: string): void {
    this.jobs.resume(id);
  }

  /** Retry a failed or cancelled transfer: the engine resumes from the partial files it kept. */
  retry(id: string): void {
    this.jobs.resume(id);
  }

  cancel(id: string): void {
    this.jobs.cancel(id);
  }

  /** Forget finished transfers. */
  clearFinished(): void {
    this.jobs.clearFinished();
  }

  liveSnapshot(id: string): LiveSnapshot | null {
    return this.jobs.liveSnapshot(id);
  }

  upload(peer: string, paths: string[], to: string, conflict: ConflictPolicy = 'rename'): TransferView {
    const p = this.usable(peer);
    if (paths.length === 0)
      throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'Choose at least one file or folder to send');
    const label = labelFor(paths.map((x) => path.basename(x)));
    return this.jobs.enqueue({ kind: 'upload', peer, paths, to, conflict }, 'upload', p, label);
  }

  uploadStreamed(
    peer: string,
    to: string,
    entries: StreamedEntry[],
    reader: StreamReader,
    conflict: ConflictPolicy = 'rename',
  ): TransferView {
    const p = this.usable(peer);
    if (!entries.some((e) => e.kind === 'file'))
      throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'Nothing to send: no files were dropped');
    const tops = [...new Set(entries.map((e) => e.path.split('/')[0]!))];
    return this.jobs.enqueue(
      { kind: 'uploadStreamed', peer, to, entries, reader, conflict },
      'upload',
      p,
      labelFor(tops),
    );
  }

  download(peer: string, paths: string[], conflict: ConflictPolicy = 'rename'): TransferView {
    const p = this.usable(peer);
    if (paths.length === 0)
      throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'Choose at least one file or folder to download');
    return this.jobs.enqueue(
      { kind: 'download', peer, paths, conflict },
      'download',
      p,
      labelFor(paths.map((x) => x.split('/').pop() || x)),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.peerTimer) clearInterval(this.peerTimer);
    this.peersEmitter.cancel();
    this.pairings.close();
    this.uploadRequests.close();
    this.jobs.close();
    for (const c of this.clients.values())
      void c.then(
        (x) => x.close(),
        () => undefined,
      );
    this.clients.clear();
    await this.stopServer();
  }
}

/** Browsing or sending to a device this one has not paired with. */
function pairFirst(name: string): FerryError {
  return new FerryError(
    'FERRY_ERR_NOT_TRUSTED',
    `Pair first: ${name} is not paired with this device. Choose Pair, check that both screens show the same code, and approve it on ${name}.`,
  );
}
