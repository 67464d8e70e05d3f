/**
 * Hostile peers against the real server on 127.0.0.1: garbage, HTTP, TLS, oversized frames,
 * wrong versions, silent peers, hostile paths in every message that carries one, links out of
 * the share, corrupted blocks, too many connections and a peer that stops reading. Each bad peer
 * must be closed (with the right wire code where the connection allows), nothing may be written
 * outside the shared folder, and a well-behaved client connected at the same time keeps working.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorCode, type FerryError, WIRE_CODES } from '../../shared/errors.js';
import { MAX_PATH_DEPTH } from '../../shared/path-guard.js';
import { FerryClient } from '../../electron/core/client.js';
import { blockDigest, fileDigest } from '../../electron/core/hash.js';
import { encodeControl, encodePreamble } from '../../electron/core/protocol/codec.js';
import {
  FRAME_CONTROL,
  FRAME_DATA,
  MAX_CONTROL_SIZE,
  MAX_DATA_FRAME_SIZE,
  MIN_BLOCK_SIZE,
  PROTOCOL_VERSION,
  WINDOW_PER_SOCKET,
} from '../../electron/core/protocol/constants.js';
import { FerryServer } from '../../electron/core/server.js';
import type { Session } from '../../electron/core/session.js';
import type { Transfer } from '../../electron/core/transfer.js';
import { RawPeer, type RawMessage } from '../helpers/raw-peer.js';
import { makeTmp, readTree, type TreeEntry, writeTree } from '../helpers/tmp.js';

const HANDSHAKE_MS = 300;

/** The FerryError code a promise rejects with. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as FerryError).code ?? `not a FerryError: ${String(err)}`;
  }
}

/** A snapshot of `tree` without the keys `drop` says to ignore. */
function without(tree: Record<string, TreeEntry>, drop: (key: string) => boolean): Record<string, TreeEntry> {
  return Object.fromEntries(Object.entries(tree).filter(([k]) => !drop(k)));
}

/** One server shared by most tests: root with files, a sibling "outside" folder with a canary. */
describe('a server facing hostile peers', () => {
  let base: string;
  let root: string;
  let outside: string;
  let src: string;
  let server: FerryServer;
  let port: number;
  let client: FerryClient;
  const serverErrors: FerryError[] = [];
  let aliveCount = 0;

  beforeAll(async () => {
    base = makeTmp('ferry-hostile-');
    root = path.join(base, 'root');
    outside = path.join(base, 'outside');
    src = path.join(base, 'src');
    writeTree(base, {
      'root/hello.txt': 'hello from the share',
      'root/docs/a.txt': 'a',
      'outside/canary.txt': 'canary: must never change',
      src: null,
    });
    fs.symlinkSync(outside, path.join(root, 'escape'), 'dir');
    fs.symlinkSync(path.join(outside, 'canary.txt'), path.join(root, 'docs', 'canary-link'), 'file');
    server = await FerryServer.start({ root, handshakeTimeoutMs: HANDSHAKE_MS });
    server.on('connectionError', (e) => serverErrors.push(e));
    port = server.address().port;
    client = await FerryClient.connect(server.address().text);
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  /** The well-behaved client lists the share and uploads a small file that lands intact. */
  async function clientStillWorks(): Promise<void> {
    const n = ++aliveCount;
    const name = `alive-${n}.txt`;
    const local = path.join(src, name);
    fs.writeFileSync(local, `still alive ${n}`);
    const entries = await client.list('');
    expect(entries.map((e) => e.name)).toContain('hello.txt');
    const s = await client.upload([local], { to: 'alive' }).result();
    expect(s.filesLanded).toBe(1);
    expect(fs.readFileSync(path.join(root, 'alive', name), 'utf8')).toBe(`still alive ${n}`);
  }

  describe('peers that are not speaking Ferry, or not correctly', () => {
    interface Attack {
      name: string;
      code: ErrorCode;
      /** Closed by the handshake timer rather than at once. */
      waits?: boolean;
      run(p: RawPeer): Promise<void>;
    }
    const attacks: Attack[] = [
      {
        name: 'garbage bytes',
        code: 'FERRY_ERR_BAD_MAGIC',
        run: (p) => p.write(Buffer.from('\x00\xff\x13garbage, not a protocol at all\r\n\x7f', 'latin1')),
      },
      {
        name: 'an HTTP request',
        code: 'FERRY_ERR_BAD_MAGIC',
        run: (p) => p.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      },
      {
        name: 'a TLS ClientHello',
        code: 'FERRY_ERR_BAD_MAGIC',
        // record: handshake(0x16) TLS1.0(0x0301) len; handshake: ClientHello(1) len; TLS1.2; random
        run: (p) =>
          p.write(
            Buffer.concat([
              Buffer.from([0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03]),
              randomBytes(32),
            ]),
          ),
      },
      {
        name: 'an oversized control frame length after a correct preamble',
        code: 'FERRY_ERR_FRAME_TOO_LARGE',
        run: async (p) => {
          await p.sendPreamble();
          await p.sendFrameHeader(FRAME_CONTROL, 0xffffffff);
        },
      },
      {
        name: 'a control frame one byte over the limit, as the hello',
        code: 'FERRY_ERR_FRAME_TOO_LARGE',
        run: async (p) => {
          await p.sendPreamble();
          await p.sendFrameHeader(FRAME_CONTROL, MAX_CONTROL_SIZE + 1);
        },
      },
      {
        name: 'an oversized data frame after a proper hello',
        code: 'FERRY_ERR_FRAME_TOO_LARGE',
        run: async (p) => {
          await p.hello();
          await p.sendFrameHeader(FRAME_DATA, MAX_DATA_FRAME_SIZE + 1);
        },
      },
      {
        name: 'a wrong protocol version in the preamble',
        code: 'FERRY_ERR_VERSION',
        run: async (p) => {
          await p.sendPreamble(PROTOCOL_VERSION + 1);
          await p.sendControl({ t: 'hello', name: 'future', device: 'f', caps: [] });
        },
      },
      {
        name: 'a data frame before the hello',
        code: 'FERRY_ERR_PROTOCOL',
        run: async (p) => {
          await p.sendPreamble();
          const payload = Buffer.from('early data');
          await p.sendBlock({ transfer: 1, file: 0, block: 0, digest: blockDigest(payload) }, payload);
        },
      },
      {
        name: 'a request before the hello',
        code: 'FERRY_ERR_PROTOCOL',
        run: async (p) => {
          await p.sendPreamble();
          await p.sendControl({ t: 'list', req: 1, path: '' });
        },
      },
      {
        name: 'an unknown frame type',
        code: 'FERRY_ERR_PROTOCOL',
        run: async (p) => {
          await p.hello();
          await p.sendFrameHeader(7, 4);
        },
      },
      {
        name: 'a hello with a 300-character name',
        code: 'FERRY_ERR_PROTOCOL',
        run: async (p) => {
          await p.sendPreamble();
          await p.sendControl({ t: 'hello', name: 'n'.repeat(300), device: 'd', caps: [] });
        },
      },
      {
        name: 'a join to a session that does not exist',
        code: 'FERRY_ERR_PROTOCOL',
        run: (p) =>
          p.hello({ join: { session: 'feedfacefeedface', key: 'k' } }).then(
            () => undefined,
            () => undefined,
          ),
      },
      {
        name: "a join to another peer's session with a guessed key",
        code: 'FERRY_ERR_PROTOCOL',
        run: async (p) => {
          const victim = await RawPeer.connect(port);
          const hello = await victim.hello();
          try {
            await p.hello({ join: { session: hello.session as string, key: '0'.repeat(32) } }).catch(() => undefined);
            await p.waitClosed();
            expect(victim.isClosed).toBe(false);
          } finally {
            victim.destroy();
          }
        },
      },
      {
        name: 'nothing at all (connects and stays silent)',
        code: 'FERRY_ERR_TIMEOUT',
        waits: true,
        run: () => Promise.resolve(),
      },
      {
        name: 'a preamble and never a hello',
        code: 'FERRY_ERR_TIMEOUT',
        waits: true,
        run: (p) => p.sendPreamble(),
      },
      {
        name: 'a hello frame cut off in the middle',
        code: 'FERRY_ERR_TIMEOUT',
        waits: true,
        run: async (p) => {
          await p.sendPreamble();
          await p.sendFrameHeader(FRAME_CONTROL, 100);
          await p.write('{"t":"hel');
        },
      },
      {
        name: 'a hello trickled a byte at a time (the handshake timer is not reset by activity)',
        code: 'FERRY_ERR_TIMEOUT',
        waits: true,
        run: async (p) => {
          const bytes = Buffer.concat([
            encodePreamble(),
            encodeControl({ t: 'hello', name: 'slow', device: 'slow', caps: [] }),
          ]);
          for (let i = 0; i < bytes.length && !p.isClosed; i++) {
            await p.write(bytes.subarray(i, i + 1));
            await new Promise((r) => setTimeout(r, 25));
          }
        },
      },
    ];

    it.each(attacks)('closes a peer that sends $name, with $code, while another client is served', async (a) => {
      const errorsBefore = serverErrors.length;
      const peer = await RawPeer.connect(port);
      const during = clientStillWorks();
      await a.run(peer);
      const lifetime = await peer.waitClosed(HANDSHAKE_MS + 3000);
      await during;

      expect(peer.serverVersion).toBe(PROTOCOL_VERSION);
      expect(peer.decodeError).toBeUndefined();
      expect(peer.errorCodes()).toEqual([WIRE_CODES[a.code]]);
      // Nothing but the error was said to a peer that never completed a hello.
      expect(peer.messages.filter((m) => m.t !== 'error' && m.t !== 'hello')).toEqual([]);
      if (a.waits) expect(lifetime).toBeGreaterThanOrEqual(HANDSHAKE_MS - 50);
      expect(serverErrors.slice(errorsBefore).map((e) => e.code)).toContain(a.code);

      await clientStillWorks();
    });

    it.each([
      ['invalid UTF-8 in a message', Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
      // '{"t":"list","req":1,"path":"<UTF-8-encoded lone surrogate U+D800>"}': refused, not replaced
      [
        'a UTF-8-encoded surrogate in a path',
        Buffer.concat([
          Buffer.from('{"t":"list","req":1,"path":"'),
          Buffer.from([0xed, 0xa0, 0x80]),
          Buffer.from('"}'),
        ]),
      ],
      [
        'a truncated UTF-8 sequence',
        Buffer.concat([Buffer.from('{"t":"ping","id":1,"x":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]),
      ],
      ['JSON that is not an object', Buffer.from('[1,2,3]')],
      ['a message of an unknown type', Buffer.from('{"t":"rm -rf"}')],
      ['a list with a numeric path', Buffer.from('{"t":"list","req":1,"path":42}')],
    ])('answers %s in a control frame after the hello with PROTOCOL and closes', async (_name, body) => {
      const peer = await RawPeer.connect(port);
      await peer.hello();
      await peer.sendControlBody(body);
      await peer.waitClosed();
      expect(peer.errorCodes()).toEqual([WIRE_CODES.FERRY_ERR_PROTOCOL]);
      expect(peer.messages.some((m) => m.t === 'list-part' || m.t === 'list-end')).toBe(false);
      await clientStillWorks();
    });
  });

  describe('hostile paths, through the real protocol', () => {
    let token: string;
    /** Hostile in every message; '' is hostile only as a file path (it names the share itself). */
    let hostile: string[];

    beforeAll(() => {
      token = `pwned-${randomBytes(4).toString('hex')}`;
      const T = token;
      hostile = [
        // absolute
        `/${T}`,
        `${outside}/${T}`,
        `//server/share/${T}`,
        `\\\\server\\share\\${T}`,
        `\\${T}`,
        '/',
        // traversal and non-canonical spellings
        '..',
        `../${T}`,
        `../outside/${T}`,
        `docs/../../outside/${T}`,
        `docs/../${T}`,
        'docs/..',
        '.',
        `./${T}`,
        `docs/./${T}`,
        `docs//${T}`,
        'docs/',
        // NUL and other control characters
        `${T}\u0000.txt`,
        'docs/\u0000',
        `${T}\n.txt`,
        // backslashes and drive letters
        `..\\outside\\${T}`,
        `docs\\${T}`,
        `C:\\${T}`,
        `c:${T}`,
        `C:/${T}`,
        // NTFS streams and characters Windows forbids
        `${T}:stream`,
        `${T}::$DATA`,
        `${T}?`,
        `${T}*`,
        `<${T}>`,
        `${T}|x`,
        `"${T}"`,
        `${T}.`,
        // reserved Windows names
        'CON',
        'nul.txt',
        'docs/COM1.tar.gz',
        'LPT\u00b9',
        'aux ',
        'CONIN$',
        // not valid Unicode
        '\ud800',
        `${T}\udc00`,
        'docs/\ud83d',
        // too long or too deep
        'a'.repeat(256),
        '\u00e9'.repeat(128), // 128 characters, 256 bytes of UTF-8
        Array.from({ length: 20 }, () => 'n'.repeat(250)).join('/'),
        `${'d/'.repeat(MAX_PATH_DEPTH)}${T}`,
        // Ferry's own partial files
        `.${T}.ferrypart`,
        'docs/.a.txt.ferryjournal',
        '.hello.txt.ferrypart',
        '.ferry-0123456789abcdef',
        `${T}.FerryPart`,
      ];
    });

    /** Nothing was written outside the root (nor inside it), wherever the paths pointed. */
    function expectNothingWritten(before: { base: Record<string, TreeEntry> }): void {
      const now = readTree(base);
      // The well-behaved client's own uploads (root/alive) and local files (src) are not the peer's doing.
      const outsideRootOrAlive = (k: string): boolean =>
        k === 'root' || k === 'root/alive' || k.startsWith('root/alive/') || k === 'src' || k.startsWith('src/');
      expect(without(now, outsideRootOrAlive)).toEqual(without(before.base, outsideRootOrAlive));
      expect(Object.keys(readTree(outside))).toEqual(['canary.txt']);
      expect(fs.readFileSync(path.join(outside, 'canary.txt'), 'utf8')).toBe('canary: must never change');
      expect(fs.readdirSync(os.tmpdir()).filter((n) => n.includes(token))).toEqual([]);
      expect(fs.existsSync(`/${token}`)).toBe(false);
      for (const p of hostile) {
        if (!p.includes(token) || p.includes('\u0000')) continue;
        expect(fs.existsSync(path.resolve(root, p)), p).toBe(false);
      }
    }

    it('has at least 30 of them', () => {
      expect(new Set(hostile).size).toBe(hostile.length);
      expect(hostile.length).toBeGreaterThanOrEqual(30);
    });

    it('refuses every hostile file path in an offer with BAD_PATH, writing nothing', async () => {
      const before = { base: readTree(base) };
      const paths = ['', ...hostile];
      const peer = await RawPeer.connect(port);
      await peer.hello();
      const mtime = Date.now();
      await peer.sendControl({
        t: 'offer',
        xfer: 1,
        files: paths.map((p) => ({ path: p, kind: 'file', size: 5, mtime, bs: MIN_BLOCK_SIZE })),
        last: true,
      });
      const reply = await peer.waitFor((m) => m.t === 'reply' && m.xfer === 1, 'the reply');
      const d = reply.d as { i: number; a: string; code?: number }[];
      expect(d.map((x) => [paths[x.i], x.a, x.code])).toEqual(
        paths.map((p) => [p, 'refuse', WIRE_CODES.FERRY_ERR_BAD_PATH]),
      );
      // Hostile folders in a manifest create nothing either.
      await peer.sendControl({
        t: 'offer',
        xfer: 2,
        files: hostile.map((p) => ({ path: p, kind: 'dir', size: 0, mtime, bs: MIN_BLOCK_SIZE })),
        last: true,
      });
      await peer.waitFor((m) => m.t === 'reply' && m.xfer === 2, 'the reply to a folders-only offer');
      for (const xfer of [1, 2]) {
        await peer.sendControl({ t: 'done', xfer });
        await peer.waitFor((m) => m.t === 'complete' && m.xfer === xfer, `complete for ${xfer}`);
      }
      expect(peer.isClosed).toBe(false);
      expect(peer.errorCodes()).toEqual([]);
      peer.destroy();
      expectNothingWritten(before);
      await clientStillWorks();
    });

    it('fails a list of every hostile path with BAD_PATH and keeps the connection', async () => {
      const peer = await RawPeer.connect(port);
      await peer.hello();
      for (let k = 0; k < hostile.length; k++) await peer.sendControl({ t: 'list', req: k + 1, path: hostile[k] });
      const got: [string, string, unknown][] = [];
      for (let k = 0; k < hostile.length; k++) {
        const m = await peer.waitFor(
          (x) => (x.t === 'fail' || x.t === 'list-end') && x.req === k + 1,
          `the answer to list ${k + 1}`,
        );
        got.push([hostile[k]!, m.t, m.code]);
      }
      expect(got).toEqual(hostile.map((p) => [p, 'fail', WIRE_CODES.FERRY_ERR_BAD_PATH]));
      expect(peer.messages.some((m) => m.t === 'list-part')).toBe(false);
      expect(peer.isClosed).toBe(false);
      peer.destroy();
      await clientStillWorks();
    });

    it('cancels a get of every hostile path with BAD_PATH and sends no data', async () => {
      const peer = await RawPeer.connect(port);
      await peer.hello();
      const paths = [...hostile.map((p) => [p]), ['hello.txt', '../outside/canary.txt']];
      for (let k = 0; k < paths.length; k++) await peer.sendControl({ t: 'get', xfer: 100 + k, paths: paths[k] });
      const got: [string[], string, unknown][] = [];
      for (let k = 0; k < paths.length; k++) {
        const m = await peer.waitFor(
          (x) => (x.t === 'cancel' || x.t === 'offer') && x.xfer === 100 + k,
          `the answer to get ${k}`,
        );
        got.push([paths[k]!, m.t, m.code]);
      }
      expect(got).toEqual(paths.map((p) => [p, 'cancel', WIRE_CODES.FERRY_ERR_BAD_PATH]));
      expect(peer.blocks).toEqual([]);
      expect(peer.isClosed).toBe(false);
      peer.destroy();
      await clientStillWorks();
    });

    it("cancels an offer whose 'to' is any hostile path with BAD_PATH, writing nothing", async () => {
      const before = { base: readTree(base) };
      const peer = await RawPeer.connect(port);
      await peer.hello();
      const file = { path: `${token}.txt`, kind: 'file', size: 5, mtime: Date.now(), bs: MIN_BLOCK_SIZE };
      for (let k = 0; k < hostile.length; k++) {
        await peer.sendControl({ t: 'offer', xfer: 500 + k, files: [file], to: hostile[k], last: true });
      }
      const got: [string, string, unknown][] = [];
      for (let k = 0; k < hostile.length; k++) {
        const m = await peer.waitFor(
          (x) => (x.t === 'cancel' || x.t === 'reply') && x.xfer === 500 + k,
          `the answer to offer ${k}`,
        );
        got.push([hostile[k]!, m.t, m.code]);
      }
      expect(got).toEqual(hostile.map((p) => [p, 'cancel', WIRE_CODES.FERRY_ERR_BAD_PATH]));
      // A refused transfer does not take data: blocks for it are dropped, not written.
      const payload = Buffer.from('pwned');
      await peer.sendBlock({ transfer: 500, file: 0, block: 0, digest: blockDigest(payload) }, payload);
      await peer.sendControl({ t: 'end', xfer: 500, f: 0, root: fileDigest(blockDigest(payload)) });
      await peer.sendControl({ t: 'ping', id: 99 });
      await peer.waitFor((m) => m.t === 'pong' && m.id === 99, 'the pong');
      expect(peer.messages.some((m) => m.t === 'reply' || m.t === 'landed' || m.t === 'ack')).toBe(false);
      expect(peer.isClosed).toBe(false);
      peer.destroy();
      expectNothingWritten(before);
      await clientStillWorks();
    });
  });

  describe('a link inside the share that points outside it', () => {
    it('lists the link as a link, not as the folder it points to', async () => {
      const entries = await client.list('');
      expect(entries.find((e) => e.name === 'escape')).toMatchObject({ kind: 'link', size: 0 });
      const docs = await client.list('docs');
      expect(docs.find((e) => e.name === 'canary-link')).toMatchObject({ kind: 'link', size: 0 });
    });

    it('refuses to list through it with OUTSIDE_ROOT', async () => {
      expect(await codeOf(client.list('escape'))).toBe('FERRY_ERR_OUTSIDE_ROOT');
      expect(await codeOf(client.list('escape/nested'))).toBe('FERRY_ERR_OUTSIDE_ROOT');
    });

    it('refuses a get through it, and leaves it out of a folder download', async () => {
      const out = makeTmp('ferry-hostile-out-');
      expect(await codeOf(client.download(['escape/canary.txt'], { out }).result())).toBe('FERRY_ERR_OUTSIDE_ROOT');
      expect(await codeOf(client.download(['escape'], { out }).result())).toBe('FERRY_ERR_OUTSIDE_ROOT');
      expect(await codeOf(client.download(['docs/canary-link'], { out }).result())).toBe('FERRY_ERR_OUTSIDE_ROOT');
      expect(readTree(out)).toEqual({});
      const s = await client.download(['docs'], { out }).result();
      expect(s.filesLanded).toBe(1);
      expect(Object.keys(readTree(out))).toEqual(['docs', 'docs/a.txt']);
    });

    it("refuses an upload whose 'to' is the link (or below it) with OUTSIDE_ROOT; the canary is unchanged", async () => {
      const before = readTree(outside);
      const local = path.join(src, 'canary.txt');
      fs.writeFileSync(local, 'overwritten!');
      for (const to of ['escape', 'escape/deeper']) {
        for (const conflict of ['rename', 'overwrite'] as const) {
          const t = client.upload([local], { to, conflict });
          expect(await codeOf(t.result()), `${to} ${conflict}`).toBe('FERRY_ERR_OUTSIDE_ROOT');
        }
      }
      expect(readTree(outside)).toEqual(before);
      expect(fs.readFileSync(path.join(outside, 'canary.txt'), 'utf8')).toBe('canary: must never change');
    });

    it('refuses an offered file path through the link with OUTSIDE_ROOT', async () => {
      const before = readTree(outside);
      const peer = await RawPeer.connect(port);
      await peer.hello();
      const paths = ['escape/canary.txt', 'escape/new.txt', 'escape/sub/new.txt'];
      await peer.sendControl({
        t: 'offer',
        xfer: 1,
        files: paths.map((p) => ({ path: p, kind: 'file', size: 5, mtime: Date.now(), bs: MIN_BLOCK_SIZE })),
        last: true,
      });
      const reply = await peer.waitFor((m) => m.t === 'reply' && m.xfer === 1, 'the reply');
      const d = reply.d as { i: number; a: string; code?: number }[];
      expect(d.map((x) => [paths[x.i], x.a, x.code])).toEqual(
        paths.map((p) => [p, 'refuse', WIRE_CODES.FERRY_ERR_OUTSIDE_ROOT]),
      );
      peer.destroy();
      expect(readTree(outside)).toEqual(before);
    });

    it('refuses an upload into a dangling link that points outside, creating nothing there', async () => {
      const target = path.join(outside, 'not-yet');
      fs.symlinkSync(target, path.join(root, 'dangling'), 'dir');
      try {
        const local = path.join(src, 'into-dangling.txt');
        fs.writeFileSync(local, 'x');
        const code = await codeOf(client.upload([local], { to: 'dangling' }).result());
        expect(fs.existsSync(target)).toBe(false);
        expect(code).toBe('FERRY_ERR_OUTSIDE_ROOT');
      } finally {
        fs.unlinkSync(path.join(root, 'dangling'));
      }
    });
  });

  describe('a link to a file outside, where an upload lands', () => {
    it.each(['rename', 'overwrite', 'skip'] as const)('never writes through it (conflict %s)', async (conflict) => {
      const link = path.join(root, 'docs', `link-${conflict}.txt`);
      fs.symlinkSync(path.join(outside, 'canary.txt'), link, 'file');
      const before = readTree(outside);
      const local = path.join(src, `link-${conflict}.txt`);
      fs.writeFileSync(local, 'written through a link?');
      const summary = await client.upload([local], { to: 'docs', conflict }).done();
      expect(readTree(outside)).toEqual(before);
      expect(fs.readFileSync(path.join(outside, 'canary.txt'), 'utf8')).toBe('canary: must never change');
      if (conflict === 'overwrite') {
        // The link itself is replaced by the uploaded file.
        expect(summary.state).toBe('done');
        expect(fs.lstatSync(link).isFile()).toBe(true);
        expect(fs.readFileSync(link, 'utf8')).toBe('written through a link?');
      } else {
        expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
      }
    });
  });

  describe('blocks that fail their check', () => {
    it('nacks a block with the wrong digest, then lands the file once the right block and digest come', async () => {
      const peer = await RawPeer.connect(port);
      await peer.hello();
      const payload = randomBytes(100_000);
      const mtime = Date.parse('2022-02-02T02:02:02.222Z');
      await peer.sendControl({
        t: 'offer',
        xfer: 7,
        files: [{ path: 'nack/good.bin', kind: 'file', size: payload.length, mtime, bs: MIN_BLOCK_SIZE }],
        last: true,
      });
      const reply = await peer.waitFor((m) => m.t === 'reply' && m.xfer === 7, 'the reply');
      expect(reply.d).toEqual([{ i: 0, a: 'send' }]);

      const digest = blockDigest(payload);
      const wrongDigest = Buffer.from(digest);
      wrongDigest[0] = wrongDigest[0]! ^ 0xff;
      await peer.sendBlock({ transfer: 7, file: 0, block: 0, digest: wrongDigest }, payload);
      const nack = await peer.waitFor((m) => m.t === 'nack' && m.xfer === 7, 'a nack');
      expect(nack).toMatchObject({ f: 0, b: 0, code: WIRE_CODES.FERRY_ERR_INTEGRITY });

      // The right digest over corrupted bytes is refused the same way.
      const corrupted = Buffer.from(payload);
      corrupted[50_000] = corrupted[50_000]! ^ 1;
      await peer.sendBlock({ transfer: 7, file: 0, block: 0, digest }, corrupted);
      const nacks = (): RawMessage[] => peer.messages.filter((m) => m.t === 'nack' && m.xfer === 7);
      await peer.waitUntil(() => (nacks().length >= 2 ? true : undefined), 'a second nack');
      expect(peer.messages.some((m) => m.t === 'ack')).toBe(false);
      expect(fs.existsSync(path.join(root, 'nack', 'good.bin'))).toBe(false);

      await peer.sendBlock({ transfer: 7, file: 0, block: 0, digest }, payload);
      const ack = await peer.waitFor((m) => m.t === 'ack' && m.xfer === 7, 'the ack');
      expect(ack.b).toEqual([0, 0]);
      await peer.sendControl({ t: 'end', xfer: 7, f: 0, root: fileDigest(digest) });
      const landed = await peer.waitFor((m) => m.t === 'landed' && m.xfer === 7, 'landed');
      expect(landed.files).toEqual([{ f: 0, path: 'nack/good.bin' }]);
      await peer.sendControl({ t: 'done', xfer: 7 });
      await peer.waitFor((m) => m.t === 'complete' && m.xfer === 7, 'complete');
      expect(nacks()).toHaveLength(2);
      peer.destroy();

      const file = path.join(root, 'nack', 'good.bin');
      expect(fs.readFileSync(file).equals(payload)).toBe(true);
      expect(Math.round(fs.statSync(file).mtimeMs)).toBe(mtime);
      expect(fs.readdirSync(path.join(root, 'nack'))).toEqual(['good.bin']);
    });

    it('fails a file whose blocks pass but whose file digest is wrong, and keeps nothing of it', async () => {
      const peer = await RawPeer.connect(port);
      await peer.hello();
      const payload = randomBytes(4096);
      await peer.sendControl({
        t: 'offer',
        xfer: 8,
        files: [
          { path: 'nack/bad-root.bin', kind: 'file', size: payload.length, mtime: Date.now(), bs: MIN_BLOCK_SIZE },
        ],
        last: true,
      });
      await peer.waitFor((m) => m.t === 'reply' && m.xfer === 8, 'the reply');
      const digest = blockDigest(payload);
      await peer.sendBlock({ transfer: 8, file: 0, block: 0, digest }, payload);
      await peer.waitFor((m) => m.t === 'ack' && m.xfer === 8, 'the ack');
      await peer.sendControl({ t: 'end', xfer: 8, f: 0, root: fileDigest(blockDigest(Buffer.from('something else'))) });
      const landed = await peer.waitFor((m) => m.t === 'landed' && m.xfer === 8, 'landed');
      expect(landed.files).toEqual([expect.objectContaining({ f: 0, code: WIRE_CODES.FERRY_ERR_INTEGRITY })]);
      peer.destroy();
      expect(fs.existsSync(path.join(root, 'nack', 'bad-root.bin'))).toBe(false);
      expect(fs.readdirSync(path.join(root, 'nack')).filter((n) => n.includes('bad-root'))).toEqual([]);
    });

    it('closes a peer that sends a block of the wrong size for its file with PROTOCOL', async () => {
      const peer = await RawPeer.connect(port);
      await peer.hello();
      await peer.sendControl({
        t: 'offer',
        xfer: 9,
        files: [{ path: 'nack/short.bin', kind: 'file', size: 10, mtime: Date.now(), bs: MIN_BLOCK_SIZE }],
        last: true,
      });
      await peer.waitFor((m) => m.t === 'reply' && m.xfer === 9, 'the reply');
      const big = randomBytes(11);
      await peer.sendBlock({ transfer: 9, file: 0, block: 0, digest: blockDigest(big) }, big);
      await peer.waitClosed();
      expect(peer.errorCodes()).toEqual([WIRE_CODES.FERRY_ERR_PROTOCOL]);
      expect(fs.existsSync(path.join(root, 'nack', 'short.bin'))).toBe(false);
      await clientStillWorks();
    });
  });
});

describe('a read-only server', () => {
  it('refuses an upload with READ_ONLY and writes nothing, but still serves downloads', async () => {
    const base = makeTmp('ferry-readonly-');
    const root = path.join(base, 'root');
    writeTree(base, { 'root/kept.txt': 'kept', 'src/new.txt': 'new', 'src/dir/inner.txt': 'inner' });
    const server = await FerryServer.start({ root, readOnly: true });
    const client = await FerryClient.connect(server.address().text);
    try {
      const before = readTree(root);
      const t = client.upload([path.join(base, 'src', 'new.txt')]);
      await expect(t.result()).rejects.toMatchObject({ code: 'FERRY_ERR_READ_ONLY' });
      const t2 = client.upload([path.join(base, 'src', 'dir')], { to: 'sub', conflict: 'overwrite' });
      await expect(t2.result()).rejects.toMatchObject({ code: 'FERRY_ERR_READ_ONLY' });

      const peer = await RawPeer.connect(server.address().port);
      await peer.hello();
      await peer.sendControl({
        t: 'offer',
        xfer: 3,
        files: [{ path: 'raw.txt', kind: 'file', size: 3, mtime: Date.now(), bs: MIN_BLOCK_SIZE }],
        last: true,
      });
      const m = await peer.waitFor((x) => (x.t === 'cancel' || x.t === 'reply') && x.xfer === 3, 'the answer');
      expect([m.t, m.code]).toEqual(['cancel', WIRE_CODES.FERRY_ERR_READ_ONLY]);
      peer.destroy();

      expect(readTree(root)).toEqual(before);
      const out = makeTmp('ferry-readonly-out-');
      await client.download(['kept.txt'], { out }).result();
      expect(fs.readFileSync(path.join(out, 'kept.txt'), 'utf8')).toBe('kept');
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('a server at its connection limit', () => {
  it('closes the 4th connection with TOO_MANY_CONNECTIONS; the first three keep working', async () => {
    const base = makeTmp('ferry-maxconn-');
    writeTree(base, { 'root/x.txt': 'x' });
    const server = await FerryServer.start({ root: path.join(base, 'root'), maxConnections: 3 });
    const port = server.address().port;
    const client = await FerryClient.connect(server.address().text);
    const p2 = await RawPeer.connect(port);
    const p3 = await RawPeer.connect(port);
    let late: FerryClient | undefined;
    try {
      await p2.hello();
      await p3.hello();
      expect(server.connectionCount).toBe(3);

      const p4 = await RawPeer.connect(port);
      await p4.waitClosed();
      expect(p4.errorCodes()).toEqual([WIRE_CODES.FERRY_ERR_TOO_MANY_CONNECTIONS]);
      expect(await codeOf(FerryClient.connect(server.address().text))).toBe('FERRY_ERR_TOO_MANY_CONNECTIONS');

      expect((await client.list('')).map((e) => e.name)).toEqual(['x.txt']);
      await p2.sendControl({ t: 'list', req: 1, path: '' });
      expect(await p2.waitFor((m) => m.t === 'list-end' && m.req === 1)).toMatchObject({ total: 1 });
      await p3.sendControl({ t: 'ping', id: 5 });
      await p3.waitFor((m) => m.t === 'pong' && m.id === 5);
      expect([p2.isClosed, p3.isClosed]).toEqual([false, false]);

      // A place freed is a place taken again.
      p3.destroy();
      await p3.waitClosed();
      const deadline = Date.now() + 2000;
      while (server.connectionCount > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      late = await FerryClient.connect(server.address().text);
      expect((await late.list('')).map((e) => e.name)).toEqual(['x.txt']);
    } finally {
      late?.close();
      p2.destroy();
      p3.destroy();
      client.close();
      await server.close();
    }
  });
});

describe('a peer that stops reading', () => {
  it('keeps what the server sends it bounded, serves others meanwhile, and cleans up when it goes', async () => {
    const base = makeTmp('ferry-stall-');
    const root = path.join(base, 'root');
    writeTree(base, { 'root/small.txt': 'small', src: null });
    const size = 64 * 1024 * 1024;
    // Sparse: the content does not matter, only that there is far more of it than any window.
    fs.writeFileSync(path.join(root, 'big.bin'), '');
    fs.truncateSync(path.join(root, 'big.bin'), size);
    const server = await FerryServer.start({ root });
    const served: { t: Transfer; s: Session }[] = [];
    server.on('transfer', (t, s) => served.push({ t, s }));
    const client = await FerryClient.connect(server.address().text);
    const peer = await RawPeer.connect(server.address().port);
    try {
      await peer.hello();
      await peer.sendControl({ t: 'get', xfer: 1, paths: ['big.bin'] });
      const offer = await peer.waitFor((m) => m.t === 'offer' && m.xfer === 1, 'the offer');
      const files = offer.files as { path: string; size: number; bs: number }[];
      expect(files).toEqual([expect.objectContaining({ path: 'big.bin', size })]);
      const bs = files[0]!.bs;
      peer.pause();
      await peer.sendControl({ t: 'reply', xfer: 1, d: [{ i: 0, a: 'send' }], last: true });

      const down = served.find((x) => x.t.info.direction === 'download')!;
      expect(down).toBeDefined();
      const bound = WINDOW_PER_SOCKET + bs;
      // Let the server push all it will into a peer that never acks and never reads.
      const samples: number[] = [];
      for (let k = 0; k < 10; k++) {
        await new Promise((r) => setTimeout(r, 100));
        samples.push(down.t.bytesSent);
        expect(down.s.control.writeBuffered).toBeLessThanOrEqual(bound);
      }
      // Meanwhile another client is served normally.
      const local = path.join(base, 'src', 'during.txt');
      fs.writeFileSync(local, 'during the stall');
      expect((await client.list('')).map((e) => e.name).sort()).toEqual(['big.bin', 'small.txt']);
      await client.upload([local]).result();
      expect(fs.readFileSync(path.join(root, 'during.txt'), 'utf8')).toBe('during the stall');
      const out = makeTmp('ferry-stall-out-');
      await client.download(['small.txt'], { out }).result();
      expect(fs.readFileSync(path.join(out, 'small.txt'), 'utf8')).toBe('small');

      const last = down.t.bytesSent;
      expect(last).toBeGreaterThan(0);
      expect(Math.max(...samples, last)).toBeLessThanOrEqual(bound);
      expect(last).toBe(samples[samples.length - 1]); // it stopped: no more than the window
      expect(down.t.ended).toBe(false);

      peer.destroy();
      const summary = await down.t.done();
      expect(summary.state).toBe('failed');
      expect(summary.error?.code).toBe('FERRY_ERR_CONNECTION_LOST');
      if (!down.s.closedError) await once(down.s, 'close');
      expect(down.s.closedError).toBeDefined();
      // Only the well-behaved client's sockets are left.
      expect(server.connectionCount).toBe(client.session.pool.size);
    } finally {
      peer.destroy();
      client.close();
      await server.close();
    }
  });
});

describe('a manifest out of proportion', () => {
  it('does not make the server reserve memory for a file far larger than any disk before data comes', async () => {
    const base = makeTmp('ferry-manifest-');
    writeTree(base, { root: null });
    const server = await FerryServer.start({ root: path.join(base, 'root') });
    const peer = await RawPeer.connect(server.address().port);
    try {
      await peer.hello();
      globalThis.gc?.();
      const before = process.memoryUsage().arrayBuffers;
      // 16 TiB in 1 MiB blocks: 16 Mi blocks, whose digests alone would take 256 MiB.
      const size = 2 ** 44;
      await peer.sendControl({
        t: 'offer',
        xfer: 1,
        files: [{ path: 'huge.bin', kind: 'file', size, mtime: Date.now(), bs: MIN_BLOCK_SIZE }],
        last: true,
      });
      const reply = await peer.waitFor((m) => m.t === 'reply' && m.xfer === 1, 'the reply');
      const grew = process.memoryUsage().arrayBuffers - before;
      const d = (reply.d as { a: string }[])[0]!;
      // Either refused outright, or accepted without reserving per-block state up front.
      if (d.a !== 'refuse') expect(grew).toBeLessThan(64 * 1024 * 1024);
      await peer.sendControl({ t: 'cancel', xfer: 1, code: WIRE_CODES.FERRY_ERR_CANCELLED, message: 'bye' });
    } finally {
      peer.destroy();
      await server.close();
    }
  });
});

describe('a peer that asks and never reads the answers', () => {
  it('cannot make the server buffer listings without bound', async () => {
    const base = makeTmp('ferry-listflood-');
    const root = path.join(base, 'root');
    const tree: Record<string, string> = {};
    for (let i = 0; i < 400; i++) tree[`root/${String(i).padStart(4, '0')}-${'x'.repeat(100)}.txt`] = '';
    writeTree(base, tree);
    const server = await FerryServer.start({ root });
    const sessions: Session[] = [];
    server.on('session', (s) => sessions.push(s));
    const peer = await RawPeer.connect(server.address().port);
    const client = await FerryClient.connect(server.address().text);
    try {
      await peer.hello({ name: 'flooder' });
      const session = sessions.find((x) => x.peer.name === 'flooder')!;
      expect(session).toBeDefined();
      peer.pause();
      // ~60 KB of requests; each answer is ~60 KB: a thousandfold amplification if unbounded.
      const requests = Buffer.concat(
        Array.from({ length: 1000 }, (_, k) => encodeControl({ t: 'list', req: k + 1, path: '' })),
      );
      await peer.write(requests);
      let max = 0;
      for (let k = 0; k < 15; k++) {
        await new Promise((r) => setTimeout(r, 100));
        max = Math.max(max, session.control.writeBuffered);
      }
      // Meanwhile the other client is served.
      expect(await client.list('')).toHaveLength(400);
      expect(peer.bytesOut).toBeLessThan(100 * 1024);
      expect(max).toBeLessThanOrEqual(WINDOW_PER_SOCKET + MAX_CONTROL_SIZE);
    } finally {
      peer.destroy();
      client.close();
      await server.close();
    }
  });
});

describe('a peer that says hello and then nothing', () => {
  it('is closed with TIMEOUT after the idle time', async () => {
    const base = makeTmp('ferry-idle-');
    writeTree(base, { root: null });
    const server = await FerryServer.start({ root: path.join(base, 'root'), idleTimeoutMs: 400 });
    const peer = await RawPeer.connect(server.address().port);
    try {
      await peer.hello();
      const lifetime = await peer.waitClosed(5000);
      expect(peer.errorCodes()).toEqual([WIRE_CODES.FERRY_ERR_TIMEOUT]);
      expect(lifetime).toBeGreaterThanOrEqual(350);
      expect(server.connectionCount).toBe(0);
    } finally {
      peer.destroy();
      await server.close();
    }
  });
});
