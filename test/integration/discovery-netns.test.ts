/**
 * Discovery between machines: three Ferry peers, each in a network namespace of its own, joined
 * by veth pairs to a bridge in a fifth namespace, plus a fourth namespace that forges datagrams.
 * Addresses are in 10.223.0.0/24 inside those namespaces only; nothing touches the host's
 * interfaces or routes. No multicast route is added on purpose: Discovery picks each interface
 * itself (IP_MULTICAST_IF), as it must on a machine whose default route points elsewhere (a VPN).
 * Each peer is the real module in a real process (dist/test/helpers/discovery-child.js, built by
 * `npm run build`), on the real default port 7117, which is free in a fresh namespace.
 *
 * Needs Linux and root (ip netns); skipped with the reason in its name otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_PORT, encodeAnnouncement, parseAnnouncement } from '../../electron/core/discovery.js';
import { REPO } from '../helpers/cli.js';
import { type JsonEvent, type JsonLinesChild, NetnsLab, netnsSupport } from '../helpers/netns.js';

const support = netnsSupport();
const CHILD = path.join(REPO, 'dist', 'test', 'helpers', 'discovery-child.js');
const EVERY_MS = 500;
const EXPIRE_MS = 2000;

interface Peer {
  name: string;
  device: string;
  port: number;
  host: { ns: string; address: string };
  child: JsonLinesChild;
}

/** What a child lists now, by replaying its peer and gone events: deviceId -> peer. */
function listed(events: JsonEvent[]): Map<string, Record<string, unknown>> {
  const m = new Map<string, Record<string, unknown>>();
  for (const e of events) {
    const p = e.peer as Record<string, unknown> | undefined;
    if (e.event === 'peer' && p) m.set(p.deviceId as string, p);
    if (e.event === 'gone' && p) m.delete(p.deviceId as string);
  }
  return m;
}

describe.skipIf(!support.ok)(
  `discovery across network namespaces${support.ok ? '' : ` (skipped: ${support.reason})`}`,
  () => {
    let lab: NetnsLab;
    const peers: Peer[] = [];
    let spoofer: JsonLinesChild;
    let spooferAddress: string;

    beforeAll(() => {
      if (!fs.existsSync(CHILD)) throw new Error(`${CHILD} is missing: run \`npm run build\` first`);
      lab = NetnsLab.create(4); // 10.223.0.1-3: peers; 10.223.0.4: the forger
    });

    afterAll(() => {
      const made = lab?.remaining() ?? [];
      lab?.cleanup();
      // Everything made here is gone again.
      if (made.length > 0) expect(lab.remaining()).toEqual([]);
    });

    it('three peers find each other within a few seconds, with the right addresses and ports', async () => {
      const t0 = Date.now();
      for (const [i, port] of [7117, 7200, 7300].entries()) {
        const host = lab.hosts[i]!;
        const name = `Peer ${i + 1}`;
        const device = `DEVICE-${i + 1}`;
        const child = lab.spawnNode(host.ns, [
          ...[CHILD, '--port', String(port), '--name', name, '--device', device],
          ...['--every', String(EVERY_MS), '--expire', String(EXPIRE_MS)],
        ]);
        peers.push({ name, device, port, host, child });
      }
      for (const p of peers) await p.child.waitFor('ready', (ev) => ev.find((e) => e.event === 'ready'));
      for (const p of peers) {
        const others = peers.filter((o) => o !== p);
        const seen = await p.child.waitFor(`${p.name} to list the other two`, (ev) => {
          const m = listed(ev);
          return others.every((o) => m.has(o.device)) ? m : undefined;
        });
        expect(seen.size).toBe(2);
        for (const o of others) {
          expect(seen.get(o.device)).toMatchObject({ name: o.name, address: o.host.address, port: o.port, version: 1 });
        }
        expect(p.child.events.filter((e) => e.event === 'warning' || e.event === 'error')).toEqual([]);
      }
      // Well within one announcement period after the processes are up: by query and reply.
      expect(Date.now() - t0).toBeLessThan(5000);
    });

    it('forged and malformed datagrams from a fourth namespace change nothing', async () => {
      const host = lab.hosts[3]!;
      spooferAddress = host.address;
      spoofer = lab.spawnNode(host.ns, [CHILD, '--raw', '--interface', host.address]);
      await spoofer.waitFor('the forger', (ev) => ev.find((e) => e.event === 'ready'));
      const p2 = peers[1]!;
      const before = await Promise.all(peers.map((p) => p.child.stats()));
      const eventsBefore = peers.map(
        (p) => p.child.events.filter((e) => e.event === 'peer' || e.event === 'gone').length,
      );

      const json = (o: object): Buffer => Buffer.from(JSON.stringify(o));
      const good = { ferry: 1, t: 'announce', name: 'Forged', port: 6666, version: 1 };
      const forged: Buffer[] = [
        Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0xfe, 0x00, 0x01]), // garbage
        Buffer.from('GET / HTTP/1.1\r\n\r\n'), // not JSON
        json({ ...good, device: 'BIG', pad: 'x'.repeat(1200) }), // oversized
        Buffer.alloc(1400, 0x7b), // oversized, 1400 x '{'
        json({ ...good, device: 'V9', ferry: 9 }), // wrong magic
        json({ ...good, device: 'NO-PORT', port: undefined }), // missing field
        json({ ...good, device: 'BAD\u0001NAME', name: 'x\u001b[2Jy' }), // control characters
        encodeAnnouncement({ t: 'announce', name: 'Evil twin', device: p2.device, port: 6666, version: 1 }), // claims peer 2
      ];
      for (const f of forged) spoofer.send({ b64: f.toString('base64') });
      await spoofer.waitFor('all sent', (ev) =>
        ev.filter((e) => e.event === 'sent').length >= forged.length ? true : undefined,
      );

      type Stats = { received: number; accepted: number; ignored: Record<string, number> };
      const delta = (a: Stats, b: Stats): Record<string, number> => ({
        notJson: b.ignored.notJson! - a.ignored.notJson!,
        tooLarge: b.ignored.tooLarge! - a.ignored.tooLarge!,
        wrongMagic: b.ignored.wrongMagic! - a.ignored.wrongMagic!,
        malformed: b.ignored.malformed! - a.ignored.malformed!,
        conflict: b.ignored.conflict! - a.ignored.conflict!,
      });
      for (const [i, p] of peers.entries()) {
        const s0 = before[i]!.stats as Stats;
        // Peer 2 hears a claim to its own ID and ignores it as its own; the others hear a claim to
        // a device they hear from another address, and keep the one they know.
        const expected = { notJson: 2, tooLarge: 2, wrongMagic: 1, malformed: 2, conflict: p === p2 ? 0 : 1 };
        const total = Object.values(expected).reduce((x, y) => x + y, 0);
        // Wait until every forged datagram has arrived (and been counted), so the test cannot pass
        // because they were lost on the way. ('self' is left out: every peer also hears its own
        // announcements; the unit test counts it exactly.)
        const s1 = await (async (): Promise<Stats> => {
          const deadline = Date.now() + 5000;
          for (;;) {
            const s = (await p.child.stats()).stats as Stats;
            const d = delta(s0, s);
            if (Object.values(d).reduce((x, y) => x + y, 0) >= total) return s;
            if (Date.now() > deadline)
              throw new Error(`${p.name} counted ${JSON.stringify(d)} of ${total} forged datagrams`);
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
        expect(delta(s0, s1), p.name).toEqual(expected);
        if (p === p2) expect(s1.ignored.self! - s0.ignored.self!).toBeGreaterThanOrEqual(1);
        const m = listed(p.child.events);
        if (p !== p2)
          expect(m.get(p2.device)).toMatchObject({ name: p2.name, address: p2.host.address, port: p2.port });
        expect(p.child.events.filter((e) => e.event === 'peer' || e.event === 'gone').length, p.name).toBe(
          eventsBefore[i],
        );
      }
    });

    it('answers a query by unicast from each peer, once a second per asker however often it asks', async () => {
      const seen = spoofer.events.length;
      const query = encodeAnnouncement({
        t: 'announce',
        name: 'Asker',
        device: 'ASKER',
        port: 6000,
        version: 1,
        query: true,
      });
      for (let i = 0; i < 10; i++) spoofer.send({ b64: query.toString('base64') });
      const replies = await spoofer.waitFor('three replies', (ev) => {
        const r = ev.slice(seen).filter((e) => e.event === 'datagram');
        return r.length >= 3 ? r : undefined;
      });
      await new Promise((r) => setTimeout(r, 300)); // room for any extra reply to show up
      const all = spoofer.events.slice(seen).filter((e) => e.event === 'datagram');
      expect(all).toHaveLength(3);
      const got = replies.map((r) => {
        const p = parseAnnouncement(Buffer.from(r.b64 as string, 'base64'));
        if (!p.ok) throw new Error(`bad reply: ${p.reason}`);
        return { from: r.from, device: p.value.device, port: p.value.port, t: p.value.t };
      });
      expect(got.sort((a, b) => a.device.localeCompare(b.device))).toEqual(
        peers.map((p) => ({ from: p.host.address, device: p.device, port: p.port, t: 'query-reply' })),
      );
      // The asker is listed (it announced itself in its query): a hint with the address it came from.
      for (const p of peers) {
        const m = await p.child.waitFor('the asker', (ev) => listed(ev).get('ASKER'));
        expect(m).toMatchObject({ address: spooferAddress, port: 6000 });
      }
    });

    it('a stopped peer is dropped by the others after the expiry, and only then', async () => {
      const [p1, p2, p3] = peers as [Peer, Peer, Peer];
      const marks = [p1, p2].map((p) => p.child.events.length);
      const stoppedAt = Date.now();
      p3.child.send('stop');
      await p3.child.waitFor('peer 3 to stop', (ev) => ev.find((e) => e.event === 'stopped'));
      for (const [i, p] of [p1, p2].entries()) {
        const gone = await p.child.waitFor(
          `${p.name} to drop peer 3`,
          (ev) =>
            ev
              .slice(marks[i])
              .find((e) => e.event === 'gone' && (e.peer as { deviceId: string }).deviceId === p3.device),
          EXPIRE_MS + 3000,
        );
        expect(gone).toBeDefined();
        // Not before peer 3's last announcement could have expired.
        expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(EXPIRE_MS - EVERY_MS * 1.2);
      }
      for (const p of [p1, p2]) {
        const other = p === p1 ? p2 : p1;
        const m = listed(p.child.events);
        expect(m.has(p3.device)).toBe(false);
        expect(m.get(other.device)).toMatchObject({ address: other.host.address, port: other.port });
      }
      expect(DISCOVERY_PORT).toBe(7117); // the port all of the above used
    });
  },
);
