/**
 * The Electron shell, for real: the built main process in Electron's own binary, the real window
 * with the sandboxed preload, a real peer, and one upload whose bytes are checked on disk.
 *
 * Runs only where Electron's binary is installed and a display exists; elsewhere the test is
 * reported as skipped with the reason. It never tries to download the binary: Playwright is given
 * the executable's path, so it never calls require('electron') (which downloads it on first use).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, expect, test, type ElectronApplication } from '@playwright/test';
import { loadOrCreateIdentity, TrustStore } from '../../electron/core/identity/index.js';
import { FerryServer } from '../../electron/core/server.js';
import { findElectronBinary } from '../../electron/main/electron-binary.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(REPO, 'dist', 'electron', 'main', 'main.js');
const electronBinary = findElectronBinary();

/** What the preload exposes, as far as this spec uses it (the page has no DOM types here). */
interface PageBridge {
  request(
    name: string,
    arg: unknown,
  ): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }>;
}
type PageGlobals = { ferry?: PageBridge; require?: unknown; process?: unknown };

test.skip(!electronBinary.path, `Electron cannot run here: ${electronBinary.reason ?? ''}`);

test.describe('the Electron shell', () => {
  let dir: string;
  let peer: FerryServer | undefined;
  let app: ElectronApplication | undefined;

  test.beforeEach(() => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build"`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-electron-'));
  });

  test.afterEach(async () => {
    await app?.close();
    await peer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('opens a locked-down window and uploads a file to a peer', async () => {
    const home = path.join(dir, 'home');
    const peerRoot = path.join(dir, 'peer');
    const src = path.join(dir, 'src', 'photo.bin');
    fs.mkdirSync(peerRoot, { recursive: true });
    fs.mkdirSync(path.dirname(src), { recursive: true });
    fs.mkdirSync(home, { recursive: true });
    const bytes = randomBytes(2 * 1024 * 1024 + 77);
    fs.writeFileSync(src, bytes);
    // This device serves on a free port, sharing a folder of the test's own.
    fs.writeFileSync(
      path.join(home, 'settings.json'),
      JSON.stringify({
        name: 'Electron test',
        sharedFolder: path.join(dir, 'shared'),
        downloadFolder: path.join(dir, 'downloads'),
        port: 0,
        peers: [],
      }),
    );
    // The two devices trust each other (as pairing would leave them), the peer without asking.
    const peerHome = path.join(dir, 'peer-home');
    const [mine, theirs] = await Promise.all([loadOrCreateIdentity(home), loadOrCreateIdentity(peerHome)]);
    const peerTrust = TrustStore.load(peerHome);
    peerTrust.add({
      fingerprint: mine.fingerprint,
      name: 'Electron test',
      permissions: { browse: true, send: true, autoAccept: true },
    });
    TrustStore.load(home).add({ fingerprint: theirs.fingerprint, name: 'peer' });
    peer = await FerryServer.start({ root: peerRoot, port: 0, tls: { identity: theirs, trust: peerTrust } });

    app = await _electron.launch({
      executablePath: electronBinary.path!,
      args: [MAIN],
      env: { ...process.env, FERRY_HOME: home },
    });
    const win = await app.firstWindow();
    await expect(win).toHaveTitle('Ferry');
    // The renderer reached the engine through the preload and IPC: it shows where we listen.
    await expect(win.getByTestId('device-address')).toHaveText(/^[\d.]+:\d+$/);

    // No node in the page, and the bridge is the contract and nothing more.
    const globals = await win.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return { require: typeof g.require, process: typeof g.process, ferry: Object.keys(g.ferry ?? {}).sort() };
    });
    expect(globals).toEqual({
      require: 'undefined',
      process: 'undefined',
      ferry: ['on', 'pathForFile', 'platform', 'request'],
    });

    const call = (name: string, arg: unknown): Promise<Awaited<ReturnType<PageBridge['request']>>> =>
      win.evaluate(({ n, a }) => (globalThis as unknown as PageGlobals).ferry!.request(n, a), { n: name, a: arg });
    const added = await call('peers.add', { address: `127.0.0.1:${peer.address().port}` });
    expect(added).toMatchObject({ ok: true, value: { online: true } });
    const peerId = (added.value as { id: string }).id;
    const sent = await call('transfers.upload', { peer: peerId, paths: [src], to: 'inbox' });
    expect(sent.ok).toBe(true);

    const landed = path.join(peerRoot, 'inbox', 'photo.bin');
    await expect
      .poll(() => (fs.existsSync(landed) ? fs.statSync(landed).size : -1), { timeout: 30_000 })
      .toBe(bytes.length);
    await expect
      .poll(async () => {
        const list = await call('transfers.list', null);
        return (list.value as { state: string }[] | undefined)?.[0]?.state;
      })
      .toBe('done');
    expect(fs.readFileSync(landed).equals(bytes)).toBe(true);

    // A request for something outside the contract never reaches the main process.
    expect(await call('fs.readFile', { path: '/etc/passwd' })).toMatchObject({
      ok: false,
      error: { code: 'FERRY_ERR_BAD_ARGUMENT' },
    });
  });
});
