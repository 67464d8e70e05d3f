/**
 * LAN discovery on one host: real Discovery instances and raw UDP sockets, multicast looped back
 * on the loopback interface (interface: '127.0.0.1', so nothing leaves this machine), each test
 * on a UDP port of its own. Between machines (network namespaces): test/integration/discovery-netns.test.ts.
 */
import * as dgram from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PORT as CLI_DEFAULT_PORT } from '../../electron/cli/args.js';
import { DEFAULT_PORT } from '../../electron/core/app/settings.js';
import {
  DISCOVERY_GROUP,
  DISCOVERY_PORT,
  Discovery,
  type DiscoveredPeer,
  type DiscoveryOptions,
  MAX_DATAGRAM_SIZE,
  MAX_PEERS,
  encodeAnnouncement,
  parseAnnouncement,
} from '../../electron/core/discovery.js';
import { FerryError } from '../../shared/errors.js';

const LO = '127.0.0.1';

/** A free UDP port for this test's group traffic (other tests run in parallel). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, LO, resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

const running: Discovery[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  for (const s of sockets.splice(0)) s.close();
});

function make(udpPort: number, id: string, extra: Partial<DiscoveryOptions> = {}): Discovery {
  const d = new Discovery({
    port: 7000 + running.length,
    name: `Device ${id}`,
    deviceId: id,
    protocolVersion: 1,
    discoveryPort: udpPort,
    interface: LO,
    announceEveryMs: 60_000, // only the query and its replies can be heard within a test
    expireAfterMs: 180_000,
    ...extra,
  });
  running.push(d);
  return d;
}

/** Poll until `check` returns a value (not undefined), or fail after `ms`. */
async function until<T>(what: string, check: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ids = (d: Discovery): string[] =>
  d
    .peers()
    .map((p) => p.deviceId)
    .sort();

interface Raw {
  socket: dgram.Socket;
  port: number;
  received: { from: string; port: number; data: Buffer }[];
  send(data: string | Buffer | object, to?: { address: string; port: number }): Promise<void>;
}

/**
 * A bare UDP socket on `address` (any 127.x address is this host's loopback), sending to the
 * group through the loopback interface; `join` also listens to the group on `udpPort`.
 */
async function raw(udpPort: number, opts: { address?: string; join?: boolean } = {}): Promise<Raw> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  sockets.push(socket);
  const received: Raw['received'] = [];
  socket.on('message', (data, r) => received.push({ from: r.address, port: r.port, data }));
  await new Promise<void>((resolve) =>
    socket.bind(opts.join ? udpPort : 0, opts.join ? undefined : (opts.address ?? LO), resolve),
  );
  if (opts.join) socket.addMembership(DISCOVERY_GROUP, LO);
  socket.setMulticastInterface(LO);
  socket.setMulticastLoopback(true);
  return {
    socket,
    port: socket.address().port,
    received,
    send: (data, to = { address: DISCOVERY_GROUP, port: udpPort }) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
      return new Promise((resolve, reject) =>
        socket.send(buf, to.port, to.address, (err) => (err ? reject(err) : resolve())),
      );
    },
  };
}

const announce = (device: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ferry: 1,
  t: 'announce',
  name: `Forged ${device}`,
  device,
  port: 6666,
  version: 1,
  ...extra,
});

describe('the datagram', () => {
  it('round-trips an announcement, and the query flag only on announce', () => {
    const a = { t: 'announce' as const, name: 'Ada', device: 'ABC-123', port: 7117, version: 1, query: true as const };
    expect(parseAnnouncement(encodeAnnouncement(a))).toEqual({ ok: true, value: a });
    const r = { t: 'query-reply' as const, name: 'Ada', device: 'ABC-123', port: 7117, version: 1 };
    expect(parseAnnouncement(encodeAnnouncement(r))).toEqual({ ok: true, value: r });
  });

  it('names each way a datagram is refused', () => {
    const ok = announce('X');
    const reason = (v: unknown): string => {
      const p = parseAnnouncement(Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
      return p.ok ? 'ok' : p.reason;
    };
    expect(reason(ok)).toBe('ok');
    expect(reason({ ...ok, extra: 'fields from a later format are ignored' })).toBe('ok');
    expect(reason(Buffer.from([0xff, 0xfe, 0x00]))).toBe('notJson'); // not UTF-8
    expect(reason('{"ferry":1,')).toBe('notJson');
    expect(reason('[1,2]')).toBe('notJson');
    expect(reason('null')).toBe('notJson');
    expect(reason({ ...ok, ferry: 2 })).toBe('wrongMagic');
    expect(reason({ ...ok, ferry: '1' })).toBe('wrongMagic');
    expect(reason({ ...ok, t: 'hello' })).toBe('malformed');
    expect(reason({ ...ok, name: '' })).toBe('malformed');
    expect(reason({ ...ok, name: 'a\u0007b' })).toBe('malformed');
    expect(reason({ ...ok, name: 'a\u009bb' })).toBe('malformed'); // C1: CSI
    expect(reason({ ...ok, name: 7 })).toBe('malformed');
    expect(reason({ ...ok, device: '' })).toBe('malformed');
    expect(reason({ ...ok, device: 'has space' })).toBe('malformed');
    expect(reason({ ...ok, device: 'X'.repeat(129) })).toBe('malformed');
    expect(reason({ ...ok, port: 0 })).toBe('malformed');
    expect(reason({ ...ok, port: 65536 })).toBe('malformed');
    expect(reason({ ...ok, port: 7117.5 })).toBe('malformed');
    expect(reason({ ...ok, port: '7117' })).toBe('malformed');
    expect(reason({ ...ok, version: undefined })).toBe('malformed');
    expect(reason({ ...ok, query: false })).toBe('malformed');
    expect(reason({ ...ok, t: 'query-reply', query: true })).toBe('malformed'); // no reply ping-pong
  });

  it('takes 1,024 bytes and refuses 1,025', () => {
    const padTo = (n: number): Buffer => {
      const base = JSON.stringify({ ...announce('X'), pad: '' });
      return Buffer.from(JSON.stringify({ ...announce('X'), pad: 'p'.repeat(n - base.length) }));
    };
    expect(padTo(MAX_DATAGRAM_SIZE).byteLength).toBe(1024);
    expect(parseAnnouncement(padTo(1024)).ok).toBe(true);
    expect(parseAnnouncement(padTo(1025))).toEqual({ ok: false, reason: 'tooLarge' });
  });

  it('never throws on arbitrary bytes, and what we encode always parses back (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (bytes) => {
        const p = parseAnnouncement(bytes);
        expect(typeof p.ok).toBe('boolean');
      }),
    );
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u001f\u007f-\u009f]/;
    const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }).filter((s) => !control.test(s));
    fc.assert(
      fc.property(name, fc.integer({ min: 1, max: 65535 }), (n, port) => {
        const buf = encodeAnnouncement({ t: 'announce', name: n, device: 'DEV-1', port, version: 1 });
        expect(buf.byteLength).toBeLessThanOrEqual(MAX_DATAGRAM_SIZE);
        const p = parseAnnouncement(buf);
        if (!p.ok) throw new Error(`refused our own datagram: ${p.reason}`);
        expect(n.startsWith(p.value.name)).toBe(true); // shortened to fit, never changed otherwise
        expect(p.value.port).toBe(port);
      }),
    );
  });

  it('uses the number of Ferry’s default TCP port', () => {
    expect(DISCOVERY_PORT).toBe(DEFAULT_PORT);
    expect(DISCOVERY_PORT).toBe(CLI_DEFAULT_PORT);
  });

  it('refuses bad options with FERRY_ERR_BAD_ARGUMENT', () => {
    const base = { port: 7117, name: 'x', deviceId: 'D', protocolVersion: 1 };
    for (const bad of [
      { port: 0 },
      { deviceId: 'with space' },
      { group: '10.0.0.1' },
      { announceEveryMs: 1000, expireAfterMs: 1000 },
      { protocolVersion: 0 },
    ]) {
      expect(() => new Discovery({ ...base, ...bad }), JSON.stringify(bad)).toThrow(FerryError);
      try {
        new Discovery({ ...base, ...bad });
      } catch (err) {
        expect((err as FerryError).code).toBe('FERRY_ERR_BAD_ARGUMENT');
      }
    }
  });
});

describe('Discovery on one host (loopback multicast)', () => {
  it('three instances sharing the UDP port find each other within a second, by query and reply', async () => {
    const udp = await freeUdpPort();
    const [a, b, c] = [make(udp, 'AAA'), make(udp, 'BBB'), make(udp, 'CCC')] as [Discovery, Discovery, Discovery];
    const t0 = Date.now();
    for (const d of [a, b, c]) await d.start();
    // Announcements come every 60 s here: the newcomers' queries and the unicast replies (each to
    // the querier's own socket, not the shared port) are the only way to meet this fast.
    await until('everyone to list the other two', () =>
      ids(a).join() === 'BBB,CCC' && ids(b).join() === 'AAA,CCC' && ids(c).join() === 'AAA,BBB' ? true : undefined,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    const seenByC = c.peers().sort((x, y) => x.deviceId.localeCompare(y.deviceId));
    expect(seenByC.map(({ lastSeen: _, ...p }) => p)).toEqual([
      { deviceId: 'AAA', name: 'Device AAA', address: LO, port: 7000, version: 1 },
      { deviceId: 'BBB', name: 'Device BBB', address: LO, port: 7001, version: 1 },
    ]);
    expect(c.stats.replies).toBe(0); // nobody queried after C
    expect(a.stats.replies).toBe(2); // to B, then to C
    // Each instance heard its own query looped back, and ignored it.
    for (const d of [a, b, c]) expect(d.stats.ignored.self).toBeGreaterThanOrEqual(1);
  });

  it('drops a peer that stopped after expireAfterMs, with a gone event', async () => {
    const udp = await freeUdpPort();
    const short = { announceEveryMs: 100, expireAfterMs: 400 };
    const a = make(udp, 'AAA', short);
    const b = make(udp, 'BBB', short);
    const gone: DiscoveredPeer[] = [];
    a.on('gone', (p) => gone.push(p));
    await a.start();
    await b.start();
    await until('A to list B', () => (ids(a).includes('BBB') ? true : undefined));
    await new Promise((r) => setTimeout(r, 800)); // two expiry periods: announcements keep B listed
    expect(ids(a)).toEqual(['BBB']);
    expect(gone).toEqual([]);
    const stoppedAt = Date.now();
    const bGone: DiscoveredPeer[] = [];
    b.on('gone', (p) => bGone.push(p));
    await b.stop();
    expect(b.peers()).toEqual([]); // a stopped Discovery forgets...
    expect(bGone.map((p) => p.deviceId)).toEqual(['AAA']); // ...and says so
    await until('A to drop B', () => (gone.length > 0 ? true : undefined));
    const after = Date.now() - stoppedAt;
    expect(gone.map((p) => p.deviceId)).toEqual(['BBB']);
    expect(after).toBeGreaterThanOrEqual(250); // expiry, not something faster
    expect(after).toBeLessThan(1000);
    expect(a.peers()).toEqual([]);
  });

  it('ignores malformed, oversized and forged datagrams, and a forged claim to a device it hears', async () => {
    const udp = await freeUdpPort();
    const a = make(udp, 'AAA');
    const b = make(udp, 'BBB');
    await a.start();
    await b.start();
    await until('A to list B', () => (ids(a).includes('BBB') ? true : undefined));
    const before = a.peers();
    const stats0 = a.stats;
    const events: string[] = [];
    a.on('peer', (p) => events.push(`peer ${p.deviceId}`));
    a.on('gone', (p) => events.push(`gone ${p.deviceId}`));

    const evil = await raw(udp, { address: '127.0.0.2' }); // another address on this host
    const forged = [
      Buffer.alloc(300, 0xff), // garbage
      'not json at all',
      JSON.stringify({ ...announce('BIG'), pad: 'x'.repeat(1100) }), // oversized
      Buffer.alloc(8000, 0x20), // oversized whitespace
      JSON.stringify({ ...announce('V2'), ferry: 2 }), // wrong magic
      JSON.stringify({ ...announce('NOPORT'), port: undefined }), // missing field
      JSON.stringify({ ...announce('Q'), t: 'query-reply', query: true }),
      JSON.stringify(announce('AAA')), // "I am you"
      JSON.stringify({ ...announce('BBB'), name: 'Evil B' }), // B, but from another address
    ];
    for (const f of forged) await evil.send(f);
    await until('A to receive all nine', () =>
      a.stats.received - stats0.received >= forged.length ? true : undefined,
    );
    const s = a.stats;
    expect({
      tooLarge: s.ignored.tooLarge - stats0.ignored.tooLarge,
      notJson: s.ignored.notJson - stats0.ignored.notJson,
      wrongMagic: s.ignored.wrongMagic - stats0.ignored.wrongMagic,
      malformed: s.ignored.malformed - stats0.ignored.malformed,
      self: s.ignored.self - stats0.ignored.self,
      conflict: s.ignored.conflict - stats0.ignored.conflict,
      accepted: s.accepted - stats0.accepted,
    }).toEqual({ tooLarge: 2, notJson: 2, wrongMagic: 1, malformed: 2, self: 1, conflict: 1, accepted: 0 });
    expect(a.peers()).toEqual(before);
    expect(events).toEqual([]);

    // A well-formed announcement for a device nobody hears is listed: discovery is only a hint
    // (a name, an address, a port), and trust comes from the TLS connection, never from here.
    await evil.send(JSON.stringify(announce('NEWCOMER')));
    await until('A to list the newcomer', () => (ids(a).includes('NEWCOMER') ? true : undefined));
    const listed = a.peers().find((p) => p.deviceId === 'NEWCOMER');
    expect(listed).toMatchObject({ name: 'Forged NEWCOMER', address: '127.0.0.2', port: 6666 });
    expect(Object.keys(listed!).sort()).toEqual(['address', 'deviceId', 'lastSeen', 'name', 'port', 'version']);
    expect(events).toEqual(['peer NEWCOMER']);
  });

  it('lets a peer change its port from its own address, with a peer event', async () => {
    const udp = await freeUdpPort();
    const a = make(udp, 'AAA');
    const b = make(udp, 'BBB', { interface: 'lo' }); // an interface by name works as by address
    await a.start();
    await b.start();
    await until('A to list B', () => (ids(a).includes('BBB') ? true : undefined));
    const changed: DiscoveredPeer[] = [];
    a.on('peer', (p) => changed.push(p));
    await b.update({ port: 9999, name: 'Renamed' });
    await until('A to hear the change', () => (changed.length > 0 ? true : undefined));
    expect(changed[0]).toMatchObject({ deviceId: 'BBB', port: 9999, name: 'Renamed', address: LO });
  });

  it('answers a query by unicast to its sender, at most once a second per sender', async () => {
    const udp = await freeUdpPort();
    const a = make(udp, 'AAA');
    await a.start();
    const asker = await raw(udp);
    await asker.send(announce('ASKER', { query: true }));
    await until('the reply', () => (asker.received.length > 0 ? true : undefined));
    const reply = asker.received[0]!;
    expect(reply.from).toBe(LO);
    expect(parseAnnouncement(reply.data)).toEqual({
      ok: true,
      value: { t: 'query-reply', name: 'Device AAA', device: 'AAA', port: 7000, version: 1 },
    });
    // A flood of queries from the same socket gets no more answers...
    for (let i = 0; i < 5; i++) await asker.send(announce(`ASKER`, { query: true }));
    // ...and a reply never asks for one back.
    await asker.send(announce('ASKER', { t: 'query-reply' }));
    await until('A to receive them', () => (a.stats.received >= 8 ? true : undefined));
    await new Promise((r) => setTimeout(r, 50));
    expect(asker.received).toHaveLength(1);
    expect(a.stats).toMatchObject({ replies: 1, repliesLimited: 5 });
  });

  it('listens without sending when announce is false', async () => {
    const udp = await freeUdpPort();
    const watcher = await raw(udp, { join: true });
    const quiet = make(udp, 'QUIET', { announce: false });
    await quiet.start();
    const loud = make(udp, 'LOUD', { announceEveryMs: 50, expireAfterMs: 500 });
    await loud.start();
    await until('the quiet one to hear the loud one', () => (ids(quiet).includes('LOUD') ? true : undefined));
    const from = (id: string): number =>
      watcher.received.filter((d) => {
        const p = parseAnnouncement(d.data);
        return p.ok && p.value.device === id;
      }).length;
    // The watcher hears the group (LOUD's query and two more announcements)...
    await until('three announcements from the loud one', () => (from('LOUD') >= 3 ? true : undefined));
    // ...and nothing from the quiet one; nor did it answer LOUD's query (that would be unicast).
    expect(from('QUIET')).toBe(0);
    expect(quiet.stats.sent).toBe(0);
    expect(ids(loud)).toEqual([]);
  });

  it('sends nothing once stopped, and nothing at all when disabled', async () => {
    const udp = await freeUdpPort();
    const watcher = await raw(udp, { join: true });
    const a = make(udp, 'AAA', { announceEveryMs: 30, expireAfterMs: 300 });
    await a.start();
    await until('a few announcements', () => (watcher.received.length >= 3 ? true : undefined));
    await a.stop();
    const count = watcher.received.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(watcher.received.length).toBe(count);
    expect(a.isRunning).toBe(false);

    const off = make(udp, 'OFF', { enabled: false, announceEveryMs: 30, expireAfterMs: 300 });
    await off.start();
    expect(off.isRunning).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(watcher.received.length).toBe(count);
    expect(off.stats.sent).toBe(0);
  });

  it('warns, and does not fail, when the interface it was given does not exist', async () => {
    const udp = await freeUdpPort();
    const d = make(udp, 'AAA', { interface: 'nosuch0' });
    const warnings: string[] = [];
    d.on('warning', (w) => warnings.push(w));
    await d.start();
    expect(d.isRunning).toBe(true);
    expect(warnings).toEqual(['No network interface to look for nearby devices on']);
    expect(d.stats.sent).toBe(0);
  });

  it(`lists at most ${MAX_PEERS} devices, whatever a flood of forged IDs says`, async () => {
    const udp = await freeUdpPort();
    const a = make(udp, 'AAA');
    await a.start();
    const evil = await raw(udp);
    const before = a.stats.received;
    // In batches: sender and receiver share this process, and a socket's receive buffer holds
    // only ~250 datagrams until the event loop gets round to reading them.
    for (let i = 0; i < MAX_PEERS + 44; i++) {
      await evil.send(announce(`FLOOD-${i}`));
      if (i % 50 === 49)
        await until(`A to receive ${i + 1}`, () => (a.stats.received - before >= i + 1 ? true : undefined));
    }
    await until('A to receive the flood', () => (a.stats.received - before >= MAX_PEERS + 44 ? true : undefined));
    expect(a.peers()).toHaveLength(MAX_PEERS);
    expect(a.stats.ignored.full).toBe(44);
  });
});
