/**
 * LAN discovery: Ferry devices announce themselves by UDP multicast and list the devices they
 * hear. An announcement is only a hint: it carries no secret and never makes a device trusted.
 * Identity is proven by the TLS connection that follows (pinned fingerprints), so the worst a
 * spoofed announcement can do is list a device that then fails to prove who it is.
 *
 * ## Where
 * - IPv4 group {@link DISCOVERY_GROUP} 239.255.70.77. 239.255.0.0/16 is the IPv4 Local Scope of
 *   administratively scoped multicast (RFC 2365): routers at a site's edge do not forward it, and
 *   it needs no IANA assignment, unlike 224.0.0.0/24 (where mDNS's 224.0.0.251 lives) which we
 *   would be squatting. 70.77 is "FM" in ASCII. One caveat: a switch that snoops IGMP on a
 *   network without an IGMP querier may stop forwarding a 239.x group minutes after the join,
 *   where 224.0.0.x is always flooded; that is why the group is an option (opts.group).
 * - UDP port {@link DISCOVERY_PORT} 7117, the number of Ferry's default TCP port: with default
 *   settings a firewall needs one port number open, TCP and UDP (LocalSend's lesson). The UDP port
 *   is shared by every instance on a host (SO_REUSEADDR), so instances listening on other TCP
 *   ports still hear each other; the TCP port travels in the announcement.
 * - TTL 1: announcements never leave the link. Multicast loopback is on, so instances on one host
 *   (and tests) hear each other. The group is joined on every non-internal IPv4 interface (or on
 *   loopback when there is none, or on opts.interface), re-checked at every announcement so a
 *   laptop that joins a network later starts announcing there; announcements go out on each.
 * - IPv6 (ff02::/16) is not used: a link-local IPv6 peer address needs a zone index
 *   (fe80::1%eth0) to connect to, and every LAN Ferry targets has IPv4 as well.
 *
 * ## The datagram: UTF-8 JSON, one object, at most {@link MAX_DATAGRAM_SIZE} (1,024) bytes
 * ```
 * { "ferry": 1, "t": "announce", "name": "Ada's laptop", "device": "MFZWI3D-...", "port": 7117,
 *   "version": 1, "query": true }
 * ```
 * | field   | type                                         | meaning                                          |
 * | ------- | -------------------------------------------- | ------------------------------------------------ |
 * | ferry   | the number 1                                 | marker and format version ({@link DISCOVERY_FORMAT}) |
 * | t       | "announce" or "query-reply"                  | an announcement, or the answer to a query        |
 * | name    | string, 1-256 UTF-16 units, no C0/C1 controls | the device's name, for people                   |
 * | device  | string, 1-128 printable ASCII (0x21-0x7e)    | the device ID (its certificate's fingerprint)    |
 * | port    | integer 1-65535                              | the TCP port the device listens on               |
 * | version | integer 1-65535                              | its protocol version (listed, not filtered: the UI can say "needs an update") |
 * | query   | true; optional; only with t "announce"       | "I just arrived: answer me"                      |
 *
 * Unknown fields are ignored (a later format can add fields and keep `ferry: 1`). Anything else is
 * ignored silently and counted in {@link DiscoveryStats}: larger than 1,024 bytes, not UTF-8 JSON
 * of an object, a missing or ill-typed field, `ferry` other than 1, or our own device ID.
 *
 * ## Behaviour
 * - On start a device multicasts an announce with `query: true`, then an announce every
 *   announceEveryMs (±10% jitter, so that devices do not fall into step). A device that hears a query
 *   answers at once with a "query-reply", unicast to the datagram's source address and port, so a
 *   newcomer lists its neighbours in a round trip instead of waiting for their next announcement.
 *   Replies are rate-limited ({@link REPLY_INTERVAL_MS} per source, {@link MAX_REPLIES_PER_SECOND}
 *   in all) so that forged queries cannot make a device flood, and a reply never asks for a reply.
 * - Announcements are multicast from a socket of their own on an ephemeral port, not from the
 *   shared group socket: Linux hands a unicast datagram for a port shared with SO_REUSEADDR to one
 *   socket only (the last bound), so a reply to the shared port could reach another instance on
 *   the querier's host. The cost: a host firewall that opens only 7117 drops the reply, and the
 *   newcomer then waits for the periodic announcement instead (at most announceEveryMs).
 * - Peers are keyed by device ID; `address` is the datagram's source IP. While a peer is fresh,
 *   announcements with its device ID from another IP are ignored (counted as `conflict`): a
 *   spoofer cannot redirect or rename a device that is being heard, and a host on two networks
 *   does not flap between its addresses. From the same IP, name, port and version may change.
 *   A peer not heard for expireAfterMs is dropped ('gone'). At most {@link MAX_PEERS} are listed.
 * - `enabled: false`: start() does nothing. `announce: false`: listen only, send nothing (no
 *   announcement, no query, no reply). A stopped Discovery sends nothing and forgets its peers.
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as os from 'node:os';
import { FerryError } from '../../shared/errors.js';

/** IPv4 Local Scope group (RFC 2365); see the module comment. */
export const DISCOVERY_GROUP = '239.255.70.77';
/** Ferry's default TCP port number, used for discovery over UDP (app/settings.ts DEFAULT_PORT, checked by a test). */
export const DISCOVERY_PORT = 7117;
/** The value of the `ferry` field: marker and format version of the datagram. */
export const DISCOVERY_FORMAT = 1;
/** Largest datagram accepted or sent. A typical announcement is ~150 bytes. */
export const MAX_DATAGRAM_SIZE = 1024;
export const MAX_NAME_LENGTH = 256;
export const MAX_DEVICE_ID_LENGTH = 128;
/** Defaults: three announcements per expiry period, so one or two lost datagrams drop nobody. */
export const ANNOUNCE_EVERY_MS = 5000;
export const EXPIRE_AFTER_MS = 15_000;
/** Peers listed at most; announcements for more new device IDs are ignored (a flood of forged IDs is bounded). */
export const MAX_PEERS = 256;
/** A source gets at most one query-reply per this interval... */
export const REPLY_INTERVAL_MS = 1000;
/** ...and a device sends at most this many query-replies a second in all. */
export const MAX_REPLIES_PER_SECOND = 20;

export type AnnouncementType = 'announce' | 'query-reply';

/** A datagram's content, checked. */
export interface Announcement {
  t: AnnouncementType;
  name: string;
  device: string;
  port: number;
  version: number;
  query?: true;
}

/** A device heard on the network: a hint, not a trusted identity. */
export interface DiscoveredPeer {
  deviceId: string;
  name: string;
  /** Source IP of the datagram we last accepted from it. */
  address: string;
  /** Its TCP port. */
  port: number;
  /** Its protocol version. */
  version: number;
  /** When we last heard it, ms since the epoch. */
  lastSeen: number;
}

export type IgnoredReason = 'tooLarge' | 'notJson' | 'malformed' | 'wrongMagic' | 'self' | 'conflict' | 'full';

export interface DiscoveryStats {
  /** Datagrams received, valid or not. */
  received: number;
  /** Announcements from other devices that were taken in (new peer, refresh or change). */
  accepted: number;
  ignored: Record<IgnoredReason, number>;
  /** Datagrams sent: announcements (one per interface), queries and replies. */
  sent: number;
  replies: number;
  /** Queries not answered because of the rate limits. */
  repliesLimited: number;
  sendErrors: number;
  /** Errors reported by a socket outside a send (ICMP port unreachable after a reply, mostly). */
  socketErrors: number;
}

export interface DiscoveryOptions {
  /** The TCP port this device listens on (announced). */
  port: number;
  name: string;
  deviceId: string;
  protocolVersion: number;
  /** UDP port of the group; default DISCOVERY_PORT. */
  discoveryPort?: number;
  group?: string;
  announceEveryMs?: number;
  expireAfterMs?: number;
  /** An IPv4 address of this host, or an interface name ('eth0'): use only that interface. */
  interface?: string;
  /** false: start() does nothing at all. Default true. */
  enabled?: boolean;
  /** false: listen only, never send. Default true. */
  announce?: boolean;
}

export interface DiscoveryEvents {
  /** A new peer, or one whose name, address, port or version changed. */
  peer: [DiscoveredPeer];
  /** A peer expired, or discovery stopped. */
  gone: [DiscoveredPeer];
  /** Something the operator should know (no interface to announce on, a send that failed). */
  warning: [string];
}

type Parsed =
  { ok: true; value: Announcement } | { ok: false; reason: Exclude<IgnoredReason, 'self' | 'conflict' | 'full'> };

const utf8 = new TextDecoder('utf-8', { fatal: true });
// C0 controls, DEL and C1 controls: nothing a device name needs, and they can garble a UI or log.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DEVICE_ID = /^[\x21-\x7e]+$/;

/** Our own name as we announce it: controls become spaces, never empty. */
function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim() || 'Ferry device';
}

function isPort(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
}

/** Check one datagram; never throws. */
export function parseAnnouncement(buf: Uint8Array): Parsed {
  if (buf.byteLength > MAX_DATAGRAM_SIZE) return { ok: false, reason: 'tooLarge' };
  let m: unknown;
  try {
    m = JSON.parse(utf8.decode(buf));
  } catch {
    return { ok: false, reason: 'notJson' };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { ok: false, reason: 'notJson' };
  const o = m as Record<string, unknown>;
  if (o.ferry !== DISCOVERY_FORMAT) return { ok: false, reason: 'wrongMagic' };
  const { t, name, device, port, version, query } = o;
  if (t !== 'announce' && t !== 'query-reply') return { ok: false, reason: 'malformed' };
  if (typeof name !== 'string' || name.length < 1 || name.length > MAX_NAME_LENGTH || CONTROL.test(name))
    return { ok: false, reason: 'malformed' };
  if (typeof device !== 'string' || device.length > MAX_DEVICE_ID_LENGTH || !DEVICE_ID.test(device))
    return { ok: false, reason: 'malformed' };
  if (!isPort(port) || !isPort(version)) return { ok: false, reason: 'malformed' };
  // A reply that asked for a reply would let two devices ping-pong forever.
  if (query !== undefined && (query !== true || t !== 'announce')) return { ok: false, reason: 'malformed' };
  return { ok: true, value: { t, name, device, port, version, ...(query ? { query: true as const } : {}) } };
}

/** Encode an announcement; a name too long for the datagram is shortened (whole code points only). */
export function encodeAnnouncement(a: Announcement): Buffer {
  let name = shorten(a.name, MAX_NAME_LENGTH);
  for (;;) {
    const body = { ferry: DISCOVERY_FORMAT, t: a.t, name, device: a.device, port: a.port, version: a.version };
    const buf = Buffer.from(JSON.stringify(a.query ? { ...body, query: true } : body), 'utf8');
    if (buf.byteLength <= MAX_DATAGRAM_SIZE) return buf;
    const shorter = shorten(name, Math.floor(name.length * 0.75));
    if (shorter.length >= name.length)
      throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'The device ID is too long to announce');
    name = shorter;
  }
}

/** At most `max` UTF-16 units (the unit `name.length` counts), never half a surrogate pair. */
function shorten(name: string, max: number): string {
  let out = '';
  for (const ch of name) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out || [...name][0] || '';
}

function bad(message: string): never {
  throw new FerryError('FERRY_ERR_BAD_ARGUMENT', message);
}

interface Entry {
  peer: DiscoveredPeer;
  /** performance.now() when last heard: expiry must not jump with the wall clock. */
  heardAt: number;
}

/** See the module comment. */
export class Discovery extends EventEmitter<DiscoveryEvents> {
  private readonly opts: Required<Omit<DiscoveryOptions, 'interface'>> & { interface?: string };
  private readonly entries = new Map<string, Entry>();
  private readonly counters: DiscoveryStats = {
    received: 0,
    accepted: 0,
    ignored: { tooLarge: 0, notJson: 0, malformed: 0, wrongMagic: 0, self: 0, conflict: 0, full: 0 },
    sent: 0,
    replies: 0,
    repliesLimited: 0,
    sendErrors: 0,
    socketErrors: 0,
  };
  private rx?: dgram.Socket; // bound to the group's port, joined to the group
  private tx?: dgram.Socket; // ephemeral port: sends everything, receives query-replies
  private running = false;
  private starting?: Promise<void>;
  private joined = new Set<string>(); // interface addresses the group is joined on
  private timers: NodeJS.Timeout[] = [];
  private sendChain: Promise<void> = Promise.resolve();
  private readonly repliedAt = new Map<string, number>();
  private replyWindow = { start: 0, count: 0 };
  private readonly warned = new Set<string>();

  constructor(opts: DiscoveryOptions) {
    super();
    if (!isPort(opts.port)) bad(`Cannot announce TCP port ${String(opts.port)}: it must be 1-65535`);
    if (!isPort(opts.protocolVersion)) bad('The protocol version must be an integer 1-65535');
    if (opts.deviceId.length > MAX_DEVICE_ID_LENGTH || !DEVICE_ID.test(opts.deviceId))
      bad(`A device ID must be 1-${MAX_DEVICE_ID_LENGTH} printable ASCII characters`);
    const group = opts.group ?? DISCOVERY_GROUP;
    if (!net.isIPv4(group) || Number(group.split('.')[0]) < 224 || Number(group.split('.')[0]) > 239)
      bad(`${group} is not an IPv4 multicast group`);
    const every = opts.announceEveryMs ?? ANNOUNCE_EVERY_MS;
    const expire = opts.expireAfterMs ?? EXPIRE_AFTER_MS;
    if (!(every > 0) || !(expire > every)) bad('expireAfterMs must be longer than announceEveryMs (> 0)');
    this.opts = {
      port: opts.port,
      name: cleanName(opts.name),
      deviceId: opts.deviceId,
      protocolVersion: opts.protocolVersion,
      discoveryPort: opts.discoveryPort ?? DISCOVERY_PORT,
      group,
      announceEveryMs: every,
      expireAfterMs: expire,
      enabled: opts.enabled ?? true,
      announce: opts.announce ?? true,
      ...(opts.interface !== undefined ? { interface: opts.interface } : {}),
    };
    if (!isPort(this.opts.discoveryPort)) bad('The discovery port must be 1-65535');
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Counters, for tests and diagnostics (a copy). */
  get stats(): DiscoveryStats {
    return { ...this.counters, ignored: { ...this.counters.ignored } };
  }

  /** The devices heard recently, the least recently heard first (copies). */
  peers(): DiscoveredPeer[] {
    return [...this.entries.values()].map((e) => ({ ...e.peer }));
  }

  /** Bind, join the group and announce with a query. Resolves once the query is sent. */
  start(): Promise<void> {
    if (this.running || !this.opts.enabled) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const tx = dgram.createSocket({ type: 'udp4' });
    try {
      await bind(rx, this.opts.discoveryPort);
      await bind(tx, 0);
    } catch (err) {
      rx.close();
      tx.close();
      const why = (err as Error).message;
      const message = `Cannot listen for nearby devices on UDP port ${this.opts.discoveryPort}: ${why}`;
      throw new FerryError('FERRY_ERR_IO', message, { cause: err });
    }
    this.rx = rx;
    this.tx = tx;
    this.running = true;
    // A UDP socket's errors after bind (ICMP unreachable on Linux, mostly) are not fatal.
    rx.on('error', () => this.counters.socketErrors++);
    tx.on('error', () => this.counters.socketErrors++);
    rx.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo, true));
    tx.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo, false));
    tx.setMulticastTTL(1);
    tx.setMulticastLoopback(true);
    this.refreshInterfaces();
    this.scheduleTick();
    if (this.opts.announce) await this.announce(true);
    const sweep = setInterval(() => this.sweep(), Math.max(20, Math.min(1000, this.opts.expireAfterMs / 4)));
    sweep.unref();
    this.timers.push(sweep);
  }

  /** Stop sending and listening; every listed peer gets a 'gone'. */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined); // a failed start leaves nothing to stop
    if (!this.running) return;
    this.running = false; // from here on, queued sends return without sending
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    // Let a send in flight finish before closing: dgram drops the callback of a send whose
    // socket closed while it was resolving the address, and the chain would never settle.
    await this.sendChain;
    const closing = [this.rx, this.tx].map(
      (s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve())),
    );
    this.rx = undefined;
    this.tx = undefined;
    this.joined.clear();
    this.repliedAt.clear();
    this.warned.clear();
    await Promise.all(closing);
    const gone = [...this.entries.values()];
    this.entries.clear();
    for (const e of gone) this.emit('gone', { ...e.peer });
  }

  /** Change what is announced (the user renamed the device, the server moved); announces at once. */
  async update(changes: { name?: string; port?: number }): Promise<void> {
    if (changes.port !== undefined) {
      if (!isPort(changes.port)) bad(`Cannot announce TCP port ${String(changes.port)}: it must be 1-65535`);
      this.opts.port = changes.port;
    }
    if (changes.name !== undefined) this.opts.name = cleanName(changes.name);
    if (this.running && this.opts.announce) await this.announce(false);
  }

  private announcement(t: AnnouncementType, query: boolean): Buffer {
    const { name, deviceId: device, port, protocolVersion: version } = this.opts;
    return encodeAnnouncement({ t, name, device, port, version, ...(query ? { query: true as const } : {}) });
  }

  /** Every announceEveryMs, ±10%: look at the interfaces again, and announce (unless listening only). */
  private scheduleTick(): void {
    const delay = this.opts.announceEveryMs * (0.9 + 0.2 * Math.random());
    const timer = setTimeout(() => {
      this.timers = this.timers.filter((t) => t !== timer);
      if (!this.running) return;
      this.refreshInterfaces();
      this.scheduleTick();
      if (this.opts.announce) void this.announce(false);
    }, delay);
    timer.unref();
    this.timers.push(timer);
  }

  /** Multicast one announcement out of every joined interface. */
  private announce(query: boolean): Promise<void> {
    const buf = this.announcement('announce', query);
    const sends = [...this.joined].map((addr) =>
      this.enqueue((tx) => {
        tx.setMulticastInterface(addr);
        return send(tx, buf, this.opts.discoveryPort, this.opts.group);
      }, `on ${addr}`),
    );
    return Promise.all(sends).then(() => undefined);
  }

  /**
   * Sends run one after another: dgram resolves even an IP literal on the next tick, so a
   * setMulticastInterface() for the next send would otherwise apply to this one.
   */
  private enqueue(fn: (tx: dgram.Socket) => Promise<void>, what: string): Promise<void> {
    const run = async (): Promise<void> => {
      const tx = this.tx;
      if (!this.running || !tx) return; // a stopped Discovery sends nothing
      try {
        await fn(tx);
        this.counters.sent++;
      } catch (err) {
        this.counters.sendErrors++;
        this.warn(`Could not announce this device ${what}: ${(err as Error).message}`);
      }
    };
    this.sendChain = this.sendChain.then(run);
    return this.sendChain;
  }

  /** Join the group on the interfaces we should be on now, and leave the ones that went away. */
  private refreshInterfaces(): void {
    const rx = this.rx;
    if (!rx) return;
    const want = new Set(this.interfaceAddresses());
    for (const addr of this.joined) {
      if (want.has(addr)) continue;
      this.joined.delete(addr);
      try {
        rx.dropMembership(this.opts.group, addr);
      } catch {
        // the interface is gone, and its membership with it
      }
    }
    for (const addr of want) {
      if (this.joined.has(addr)) continue;
      try {
        rx.addMembership(this.opts.group, addr);
        this.joined.add(addr);
      } catch (err) {
        this.warn(`Cannot listen for nearby devices on ${addr}: ${(err as Error).message}`);
      }
    }
    if (this.joined.size === 0) this.warn('No network interface to look for nearby devices on');
  }

  private interfaceAddresses(): string[] {
    const all = Object.entries(os.networkInterfaces()).flatMap(([ifname, addrs]) =>
      (addrs ?? [])
        .filter((a) => a.family === 'IPv4')
        .map((a) => ({ ifname, address: a.address, internal: a.internal })),
    );
    const chosen = this.opts.interface;
    if (chosen !== undefined) {
      if (net.isIPv4(chosen)) return all.some((a) => a.address === chosen) ? [chosen] : [];
      return all
        .filter((a) => a.ifname === chosen)
        .map((a) => a.address)
        .slice(0, 1);
    }
    const external = all.filter((a) => !a.internal).map((a) => a.address);
    // Offline: loopback, so that instances on this host still find each other.
    return external.length > 0
      ? external
      : all
          .filter((a) => a.internal)
          .map((a) => a.address)
          .slice(0, 1);
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo, viaGroup: boolean): void {
    if (!this.running) return;
    this.counters.received++;
    const parsed = parseAnnouncement(msg);
    if (!parsed.ok) {
      this.counters.ignored[parsed.reason]++;
      return;
    }
    const a = parsed.value;
    if (a.device === this.opts.deviceId) {
      this.counters.ignored.self++;
      return;
    }
    this.remember(a, rinfo.address);
    if (a.query && viaGroup && this.opts.announce) this.reply(rinfo);
  }

  private remember(a: Announcement, address: string): void {
    const now = performance.now();
    const old = this.entries.get(a.device);
    const fresh = old !== undefined && now - old.heardAt <= this.opts.expireAfterMs;
    if (fresh && old.peer.address !== address) {
      this.counters.ignored.conflict++;
      return;
    }
    if (!old && this.entries.size >= MAX_PEERS) {
      this.counters.ignored.full++;
      return;
    }
    this.counters.accepted++;
    const peer: DiscoveredPeer = {
      deviceId: a.device,
      name: a.name,
      address,
      port: a.port,
      version: a.version,
      lastSeen: Date.now(),
    };
    const changed =
      !old ||
      old.peer.name !== peer.name ||
      old.peer.address !== address ||
      old.peer.port !== peer.port ||
      old.peer.version !== peer.version;
    if (old) this.entries.delete(a.device); // re-insert: the map stays ordered by last heard
    this.entries.set(a.device, { peer, heardAt: now });
    if (changed) this.emit('peer', { ...peer });
  }

  private reply(to: dgram.RemoteInfo): void {
    const now = performance.now();
    const key = `${to.address}:${to.port}`;
    const last = this.repliedAt.get(key);
    if (now - this.replyWindow.start >= 1000) this.replyWindow = { start: now, count: 0 };
    if ((last !== undefined && now - last < REPLY_INTERVAL_MS) || this.replyWindow.count >= MAX_REPLIES_PER_SECOND) {
      this.counters.repliesLimited++;
      return;
    }
    this.repliedAt.set(key, now);
    this.replyWindow.count++;
    this.counters.replies++;
    const buf = this.announcement('query-reply', false);
    void this.enqueue((tx) => send(tx, buf, to.port, to.address), `to ${key}`);
  }

  private sweep(): void {
    const now = performance.now();
    for (const [key, at] of this.repliedAt) if (now - at >= REPLY_INTERVAL_MS) this.repliedAt.delete(key);
    for (const [id, e] of this.entries) {
      if (now - e.heardAt <= this.opts.expireAfterMs) break; // ordered by last heard
      this.entries.delete(id);
      this.emit('gone', { ...e.peer });
    }
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.emit('warning', message);
  }
}

function bind(socket: dgram.Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address: '0.0.0.0' }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function send(socket: dgram.Socket, buf: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(buf, port, address, (err) => (err ? reject(err) : resolve())));
}
