/**
 * The `ferry` command, run for real: the compiled CLI in separate processes, a `ferry serve`
 * child on a free port, real files in temporary folders. What is checked is what a person
 * sees: exit codes, the lines on stdout and stderr, and the bytes and times on disk.
 *
 * Every connection is TLS: the server and the client are two devices (two homes) that trust
 * each other by ID (`--trust`, with what `ferry id` printed on the other). Pairing, refusals
 * and the trusted devices list are in cli-trust.test.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  closedPort,
  collect,
  ferryId,
  killAll,
  REPO,
  runFerry,
  type CliResult,
  type ServeProcess,
  spawnFerry,
  startFaultProxy,
  startServe,
} from '../helpers/cli.js';
import { makeTmp, readTree } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

/** A failure as the CLI promises it: exactly one stderr line, `ferry: ...`, nothing on stdout. */
function expectOneErrorLine(r: CliResult): void {
  expect(r.errLines, r.stderr).toHaveLength(1);
  expect(r.errLines[0]).toMatch(/^ferry: \S/);
  expect(r.stdout).toBe('');
}

/** `YYYY-MM-DD HH:MM` in local time, the format of `ferry ls`. */
function localMinute(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Size of a file, or 0 while it does not exist. */
function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Poll until `test` holds; fail after `ms`. */
async function waitUntil(test: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Names under `dir`, recursively, hidden files included. */
function allNames(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const UNICODE_NAME = 'ünïcødé ✓ 写真.txt';
/** A well-formed device ID (Syncthing's documentation example, check characters included). */
const SOME_ID = 'P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2';

/**
 * The folder a person would send: nested folders, an empty one, a name with spaces, a unicode
 * name, 3 MiB of random bytes; every file and folder with its own mtime, to the millisecond.
 */
function makePhotos(parent: string): string {
  const photos = path.join(parent, 'photos');
  fs.mkdirSync(path.join(photos, 'nested', 'deeper'), { recursive: true });
  fs.mkdirSync(path.join(photos, 'empty'));
  fs.writeFileSync(path.join(photos, 'big.bin'), randomBytes(3 * MiB));
  fs.writeFileSync(path.join(photos, 'with space.txt'), 'a file with spaces in its name\n');
  fs.writeFileSync(path.join(photos, UNICODE_NAME), 'unicode ✓\n');
  fs.writeFileSync(path.join(photos, 'nested', 'deeper', 'leaf.txt'), 'leaf\n');
  // Files first, then folders deepest first: writing into a folder changes its mtime.
  const order = [
    'big.bin',
    'with space.txt',
    UNICODE_NAME,
    'nested/deeper/leaf.txt',
    'nested/deeper',
    'nested',
    'empty',
    '',
  ];
  order.forEach((rel, i) => {
    const t = (1_600_000_000_000 + i * 86_400_123 + 457) / 1000; // distinct days, odd milliseconds
    fs.utimesSync(path.join(photos, rel), t, t);
  });
  return photos;
}

/** Options of the serving device: its home, the client trusted, uploads accepted without asking. */
let serveArgs: string[] = [];
/** Options of the client device: its home, and the server pinned. */
let clientArgs: string[] = [];

beforeAll(async () => {
  assertBuilt();
  const serverHome = path.join(makeTmp('ferry-cli-server-home-'), 'home');
  const clientHome = path.join(makeTmp('ferry-cli-client-home-'), 'home');
  const [serverId, clientId] = await Promise.all([ferryId(serverHome), ferryId(clientHome)]);
  serveArgs = ['--home', serverHome, '--trust', clientId, '--accept-uploads'];
  clientArgs = ['--home', clientHome, '--trust', serverId];
});

/** `ferry ARGS...` as the client device. */
function client(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  return runFerry([...args, ...clientArgs], opts);
}

/** `ferry serve ARGS...` as the serving device. */
function serve(args: string[]): Promise<ServeProcess> {
  return startServe([...args, ...serveArgs]);
}
// Whatever a failed test left running (servers started in beforeAll live across tests).
afterAll(() => killAll());

describe('ferry help and usage errors', () => {
  it('--help, help CMD and CMD --help exit 0 and describe the commands; --version prints package.json', async () => {
    const [top, helpSend, getHelp, version] = await Promise.all([
      runFerry(['--help']),
      runFerry(['help', 'send']),
      runFerry(['get', '--help']),
      runFerry(['--version']),
    ]);
    expect(top.code).toBe(0);
    for (const cmd of ['serve', 'ls', 'send', 'get', 'pair', 'id', 'trust'])
      expect(top.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(helpSend.code).toBe(0);
    expect(helpSend.stdout).toMatch(/^Usage: ferry send PEER PATH\.\.\./);
    expect(helpSend.stdout).toContain('--conflict');
    expect(getHelp.code).toBe(0);
    expect(getHelp.stdout).toMatch(/^Usage: ferry get PEER PATH\.\.\./);
    expect(getHelp.stdout).toContain('--out');
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`${pkg.version}\n`);
  });

  it('usage errors exit 2 with one `ferry:` line that points at the command help', async () => {
    const cases: [string[], string | undefined][] = [
      [['frob'], undefined],
      [['help', 'frob'], undefined],
      [['--frob'], undefined],
      [['send'], 'send'],
      [['send', '127.0.0.1:7117'], 'send'],
      [['ls', '--bogus', '127.0.0.1:7117'], 'ls'],
      [['ls', '127.0.0.1:7117', 'a', 'b'], 'ls'],
      [['ls', 'no-port-here'], 'ls'],
      [['get', '127.0.0.1:7117', 'x', '--conflict', 'maybe'], 'get'],
      [['get', '127.0.0.1:7117', 'x', '--sockets', '0'], 'get'],
      [['send', '127.0.0.1:7117', 'x', '--retries', 'many'], 'send'],
      [['serve', '--port', '70000'], 'serve'],
      [['serve', 'extra'], 'serve'],
      [['serve', '--pairing', 'always'], 'serve'],
      [['serve', '--trust', 'not-a-device-id'], 'serve'],
      [['ls', '127.0.0.1:7117', '--trust', SOME_ID.replace('P56', 'P57')], 'ls'], // a typo: the check fails
      [['pair'], 'pair'],
      [['id', 'extra'], 'id'],
      [['trust'], 'trust'],
      [['trust', 'frob'], 'trust'],
      [['trust', 'rm'], 'trust'],
      [['trust', 'set', SOME_ID], 'trust'],
      [['trust', 'set', SOME_ID, '--browse', 'maybe'], 'trust'],
      [['trust', 'ls', '--browse', 'on'], 'trust'],
    ];
    const results = await Promise.all(cases.map(([args]) => runFerry(args)));
    results.forEach((r, i) => {
      const [args, cmd] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expectOneErrorLine(r);
      if (cmd) expect(r.errLines[0]).toContain(`ferry help ${cmd}`);
    });
    const bare = await runFerry([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: ferry <command>/);
  });
});

describe('ferry serve, ls, send and get against a live server', () => {
  let root: string;
  let work: string;
  let server: ServeProcess;

  beforeAll(async () => {
    root = makeTmp('ferry-cli-root-');
    work = makeTmp('ferry-cli-work-');
    server = await serve(['--root', root, '--port', '0']);
  });
  afterAll(async () => {
    if (server) expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('prints exactly "listening on 0.0.0.0:PORT" (all interfaces: connections are authenticated)', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe('0.0.0.0');
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
  });

  it('send lands a folder bit-identical with mtimes under ROOT/<name>; ls and get bring it back', async () => {
    const photos = makePhotos(work);
    const sent = await client(['send', server.address, photos]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toBe('');
    expect(sent.outLines).toHaveLength(1);
    expect(sent.outLines[0]).toMatch(
      new RegExp(`^sent 4 files \\(3\\.0 MiB\\) to ${server.address} in [0-9.:]+( s)? \\([0-9.]+ [KMG]?i?B/s\\)$`),
    );
    // Same names, kinds, bytes (sha256) and mtimes to the millisecond, files and folders; and
    // nothing else: no partial or journal file was left behind.
    expect(readTree(path.join(root, 'photos'))).toEqual(readTree(photos));
    expect(await server.waitForStderr(/^received 4 files \(3\.0 MiB\) from 127\.0\.0\.1:\d+$/)).toBeTruthy();

    // Sending the same folder again moves nothing: every file is identical.
    const again = await client(['send', server.address, photos]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.outLines[0]).toMatch(/^sent 0 files \(0 B\) to .*; 4 skipped \(identical\)$/);

    // ls: folders first, then files by name; sizes, local times, `/` after folders.
    const list = await client(['ls', server.address, 'photos']);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.outLines.map((l) =>
      /^ *(\S+(?: \S+)?) {2}(\d{4}-\d\d-\d\d \d\d:\d\d) {2}(.+)$/.exec(l)?.slice(1),
    );
    const mtime = (rel: string): string => localMinute(fs.statSync(path.join(photos, rel)).mtimeMs);
    const bytes = (rel: string): string => `${fs.statSync(path.join(photos, rel)).size} B`;
    expect(rows).toEqual([
      ['-', mtime('empty'), 'empty/'],
      ['-', mtime('nested'), 'nested/'],
      ['3.0 MiB', mtime('big.bin'), 'big.bin'],
      [bytes('with space.txt'), mtime('with space.txt'), 'with space.txt'],
      [bytes(UNICODE_NAME), mtime(UNICODE_NAME), UNICODE_NAME],
    ]);
    const top = await client(['ls', server.address]);
    expect(top.outLines).toEqual([`-  ${mtime('')}  photos/`]);

    const json = await client(['ls', server.address, 'photos/', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const entries = JSON.parse(json.stdout) as { name: string; kind: string; size: number; mtime: number }[];
    expect(entries.map((e) => [e.name, e.kind])).toEqual([
      ['empty', 'dir'],
      ['nested', 'dir'],
      ['big.bin', 'file'],
      ['with space.txt', 'file'],
      [UNICODE_NAME, 'file'],
    ]);
    const big = entries.find((e) => e.name === 'big.bin')!;
    expect(big.size).toBe(3 * MiB);
    expect(big.mtime).toBe(Math.trunc(fs.statSync(path.join(photos, 'big.bin')).mtimeMs));

    // get a single file, and a whole folder, into --out.
    const outFile = makeTmp('ferry-cli-out-');
    const gotFile = await client(['get', server.address, 'photos/big.bin', '--out', outFile]);
    expect(gotFile.code, gotFile.stderr).toBe(0);
    expect(gotFile.outLines[0]).toMatch(new RegExp(`^received 1 file \\(3\\.0 MiB\\) from ${server.address} in `));
    expect(readTree(outFile)).toEqual({ 'big.bin': readTree(photos)['big.bin'] });
    // The serving side saw it end well too: the client's last message ("complete") left before it
    // exited (regression: over TLS an exit straight after close() cut it off, "download failed").
    expect(await server.waitForStderr(/^sent 1 file \(3\.0 MiB\) to 127\.0\.0\.1:\d+$/)).toBeTruthy();

    const outDir = makeTmp('ferry-cli-out-');
    const gotDir = await client(['get', server.address, 'photos', '--out', outDir]);
    expect(gotDir.code, gotDir.stderr).toBe(0);
    expect(readTree(path.join(outDir, 'photos'))).toEqual(readTree(photos));
    expect(fs.readdirSync(outDir)).toEqual(['photos']);

    // --out defaults to the current folder.
    const cwd = makeTmp('ferry-cli-cwd-');
    const gotHere = await client(['get', server.address, `photos/${UNICODE_NAME}`], { cwd });
    expect(gotHere.code, gotHere.stderr).toBe(0);
    expect(readTree(cwd)).toEqual({ [UNICODE_NAME]: readTree(photos)[UNICODE_NAME] });
  });

  it('send --to DIR lands inside that folder of the share', async () => {
    const file = path.join(makeTmp('ferry-cli-src-'), 'note.txt');
    fs.writeFileSync(file, 'to a sub-folder\n');
    const r = await client(['send', server.address, file, '--to', 'inbox/today']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(root, 'inbox', 'today', 'note.txt'), 'utf8')).toBe('to a sub-folder\n');
  });

  it('hostile paths fail with one `ferry:` line and write nothing outside', async () => {
    const parent = makeTmp('ferry-cli-hostile-');
    const out = path.join(parent, 'out');
    const file = path.join(makeTmp('ferry-cli-src-'), 'payload.txt');
    fs.writeFileSync(file, 'should not land anywhere\n');
    const escape = `ferry-cli-escape-${randomUUID()}`;
    const before = readTree(root);
    const [dotdot, absolute, toOutside, toAbsolute, lsOutside] = await Promise.all([
      client(['get', server.address, '../../etc/passwd', '--out', out]),
      client(['get', server.address, '/etc/passwd', '--out', out]),
      client(['send', server.address, file, '--to', `../${escape}`]),
      client(['send', server.address, file, '--to', path.join(parent, escape)]),
      client(['ls', server.address, '../..']),
    ]);
    for (const r of [dotdot, absolute, toOutside, toAbsolute, lsOutside]) {
      expect(r.code).toBe(1);
      expectOneErrorLine(r);
    }
    expect(fs.existsSync(path.join(path.dirname(root), escape))).toBe(false);
    expect(fs.existsSync(path.join(parent, escape))).toBe(false);
    expect(allNames(parent)).toEqual(fs.existsSync(out) ? ['out'] : []);
    expect(readTree(root)).toEqual(before);
  });

  it('a missing local file fails before connecting, with one line', async () => {
    const r = await client(['send', server.address, path.join(work, 'no-such-file')]);
    expect(r.code).toBe(1);
    expectOneErrorLine(r);
  });
});

describe('ferry against peers that are not there or refuse', () => {
  it('a peer that is not running: exit 1, one line, no retries', async () => {
    const port = await closedPort();
    const file = path.join(makeTmp('ferry-cli-src-'), 'a.txt');
    fs.writeFileSync(file, 'a');
    const [list, send, get] = await Promise.all([
      client(['ls', `127.0.0.1:${port}`]),
      client(['send', `127.0.0.1:${port}`, file]),
      client(['get', `127.0.0.1:${port}`, 'a.txt', '--out', makeTmp('ferry-cli-out-')]),
    ]);
    for (const r of [list, send, get]) {
      expect(r.code).toBe(1);
      expectOneErrorLine(r);
    }
  });

  it('--read-only refuses a send with one line and keeps the folder unchanged', async () => {
    const root = makeTmp('ferry-cli-ro-');
    fs.writeFileSync(path.join(root, 'shared.txt'), 'read me');
    const server = await serve(['--root', root, '--port', '0', '--read-only']);
    try {
      const file = path.join(makeTmp('ferry-cli-src-'), 'upload.txt');
      fs.writeFileSync(file, 'not welcome');
      const r = await client(['send', server.address, file]);
      expect(r.code).toBe(1);
      expectOneErrorLine(r);
      expect(allNames(root)).toEqual(['shared.txt']);
      expect(await server.waitForStderr(/^upload from 127\.0\.0\.1:\d+ failed: /)).toBeTruthy();
      // Reading still works.
      const out = makeTmp('ferry-cli-out-');
      const got = await client(['get', server.address, 'shared.txt', '--out', out]);
      expect(got.code, got.stderr).toBe(0);
      expect(fs.readFileSync(path.join(out, 'shared.txt'), 'utf8')).toBe('read me');
    } finally {
      await server.stop();
    }
  });

  it('SIGTERM and SIGINT stop serve cleanly with exit 0', async () => {
    const [a, b] = await Promise.all([
      serve(['--root', makeTmp('ferry-cli-stop-'), '--port', '0']),
      serve(['--root', makeTmp('ferry-cli-stop-'), '--port', '0']),
    ]);
    const [ra, rb] = await Promise.all([a.stop('SIGTERM'), b.stop('SIGINT')]);
    expect(ra).toEqual({ code: 0, signal: null });
    expect(rb).toEqual({ code: 0, signal: null });
  });

  it('serve fails with one line when the folder does not exist', async () => {
    const r = await runFerry(['serve', '--root', path.join(makeTmp('ferry-cli-'), 'missing'), '--port', '0']);
    expect(r.code).toBe(1);
    expectOneErrorLine(r);
  });
});

describe('ferry send and get when the network fails', () => {
  it('connection dropped mid-transfer: send retries and resumes, sending only the missing blocks', async () => {
    const root = makeTmp('ferry-cli-retry-');
    const server = await serve(['--root', root, '--port', '0']);
    const size = 12 * MiB;
    const src = path.join(makeTmp('ferry-cli-src-'), 'large.bin');
    fs.writeFileSync(src, randomBytes(size));
    // Let about 6 MiB through, wait until the server has written at least 4 blocks of it, then
    // drop every connection: what the server holds is journaled and must not cross again.
    const proxy = await startFaultProxy(server.port, { stallUpAfter: 6 * MiB });
    try {
      const result = client(['send', proxy.address, src]);
      await waitUntil(() => fileSize(path.join(root, '.large.bin.ferrypart')) >= 4 * MiB);
      await new Promise((r) => setTimeout(r, 200)); // the writes already under way complete
      const beforeCut = proxy.bytesUp();
      proxy.cutAll();
      const r = await result;
      expect(r.code, r.stderr).toBe(0);
      expect(r.errLines).toHaveLength(1);
      expect(r.errLines[0]).toMatch(/^retry 1 of 3 in 1 s: lost the connection to 127\.0\.0\.1:\d+ /);
      expect(r.outLines[0]).toMatch(/^sent 1 file \(12 MiB\) to /);
      expect(readTree(root)).toEqual({ 'large.bin': readTree(path.dirname(src))['large.bin'] });
      // At least 4 of the 12 blocks were on the server's disk: at most 8 MiB (and some
      // messages) crossed after the cut; sending the whole file again would be over 12 MiB.
      expect(proxy.bytesUp() - beforeCut).toBeLessThan(size - 3 * MiB);
    } finally {
      await proxy.close();
      await server.stop();
    }
  });

  it('SIGINT during get cancels: `ferry: cancelled`, exit 130, partial files discarded', async () => {
    const root = makeTmp('ferry-cli-cancel-');
    fs.writeFileSync(path.join(root, 'large.bin'), randomBytes(16 * MiB));
    const server = await serve(['--root', root, '--port', '0']);
    const proxy = await startFaultProxy(server.port, { stallDownAfter: 4 * MiB });
    const out = makeTmp('ferry-cli-out-');
    try {
      const child = spawnFerry(['get', proxy.address, 'large.bin', '--out', out, '--retries', '0', ...clientArgs]);
      const result = collect(child);
      // Wait until blocks have been written to the hidden partial file, then press Ctrl-C.
      await waitUntil(() => fs.readdirSync(out).some((n) => n.endsWith('.ferrypart')));
      child.kill('SIGINT');
      const r = await result;
      expect(r.code).toBe(130);
      expect(r.errLines).toEqual(['ferry: cancelled']);
      expect(fs.readdirSync(out)).toEqual([]);
      expect(await server.waitForStderr(/^download by 127\.0\.0\.1:\d+ cancelled/)).toBeTruthy();
    } finally {
      await proxy.close();
      await server.stop();
    }
  });
});
