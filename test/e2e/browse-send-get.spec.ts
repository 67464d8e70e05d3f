/**
 * The main path through Ferry's window, as a person takes it, against two real peers: add a
 * peer by its address, pair with it (both screens), browse its share, drop files into one of
 * its folders, download a folder from it; each time the bytes on disk are checked, not only
 * what the window says. The steps build on each other (one peer list, one open folder), so
 * they run in order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { detBytes, type DropFile, MiB, sha256 } from './helpers/bytes.js';
import { fillShare, type Pair, startPair, when } from './helpers/pair.js';
import { partialFiles, readTree, sha256File } from './helpers/tree.js';
import {
  TERMINAL_STATES,
  type TransferRow,
  dragOver,
  drop,
  look,
  peerItem,
  readSamples,
  remoteRow,
  sampleAttributes,
  shownText,
  transferItem,
  transferRows,
  waitForEnd,
} from './helpers/ui.js';
import { screenshot } from './helpers/screenshots.js';
import { pairThroughUi } from './helpers/trust.js';

test.describe.configure({ mode: 'serial' });

let pair: Pair;

test.beforeAll(async ({ browser }) => {
  pair = await startPair(browser, fillShare);
});

test.afterAll(async () => {
  await pair?.dispose();
});

test('adds a peer by its address: it shows online, with its name; then pairs with it', async () => {
  const { page, a, b } = pair;
  await expect.poll(() => shownText(page.getByTestId('device-address'))).toContain(a.address);
  await expect.poll(() => shownText(page.getByTestId('shared-folder'))).toContain(a.shared);
  await expect.poll(() => shownText(page.getByTestId('download-folder'))).toContain(a.downloads);

  // Copy puts this device's address on the clipboard, for the other device.
  await pair.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByTestId('copy-address').click();
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(a.address);

  // An address that is not host:port is refused, in words, and adds nothing.
  await page.getByTestId('peer-add-input').fill('not an address');
  await page.getByTestId('peer-add-input').press('Enter');
  await expect(page.locator('[role="alert"]').first()).toBeVisible();
  await expect(page.getByTestId('peer-item')).toHaveCount(0);

  await page.getByTestId('peer-add-input').fill(b.address);
  await page.getByTestId('peer-add-button').click();

  const item = peerItem(page, b.address);
  await expect(item).toHaveCount(1);
  await expect(item).toHaveAttribute('data-online', 'true');
  await expect(item).toContainText('Bravo');
  await expect(page.getByTestId('peer-add-input')).toHaveValue('');
  await expect(page.getByTestId('error-banner')).toHaveCount(0);

  // Adding the same address again (with Enter this time) does not make a second entry.
  await page.getByTestId('peer-add-input').fill(b.address);
  await page.getByTestId('peer-add-input').press('Enter');
  await expect(peerItem(page, b.address)).toHaveCount(1);
  await expect(page.getByTestId('peer-item')).toHaveCount(1);

  // Nothing can be browsed or sent before the two devices are paired; B's user lets A send
  // without asking, so that the drops below need no answer there.
  await pairThroughUi(pair, { autoAccept: true });
  await screenshot(page, 'peers');
});

test('browses the peer: opens inbox by double-click, the breadcrumbs follow', async () => {
  const { page, b } = pair;
  await peerItem(page, b.address).click();
  const view = page.getByTestId('remote-view');
  await expect(view).toHaveAttribute('data-path', '');
  await expect(remoteRow(page, 'inbox')).toHaveAttribute('data-kind', 'dir');
  await expect(remoteRow(page, 'photos')).toHaveAttribute('data-kind', 'dir');
  await expect(page.getByTestId('remote-row')).toHaveCount(2);

  await remoteRow(page, 'inbox').dblclick();
  await expect(view).toHaveAttribute('data-path', 'inbox');
  await expect(page.getByTestId('breadcrumbs')).toContainText('inbox');
  await expect(page.getByTestId('remote-row')).toHaveCount(0);
});

// One large file (many blocks, several sockets) and two small ones, with odd sizes.
const DROPPED: DropFile[] = [
  { name: 'big.bin', seed: 1, size: 50 * MiB, mtime: when(100) },
  { name: 'small one.txt', seed: 2, size: 1000, mtime: when(101) },
  { name: 'small-two.dat', seed: 3, size: 70_001, mtime: when(102) },
];

test('drops three files on the open folder: each reaches 100% and lands byte for byte', async () => {
  const { page, b } = pair;
  const view = page.getByTestId('remote-view');
  await expect(view).toHaveAttribute('data-path', 'inbox');
  const expected = new Map(DROPPED.map((f) => [f.name, sha256(detBytes(f.seed, f.size))]));
  const before = await look(view);
  const uploads = async (): Promise<TransferRow[]> =>
    (await transferRows(page)).filter((r) => r.direction === 'upload');
  expect(await uploads(), 'no upload before the drop').toEqual([]);
  const bar = '[data-testid="transfer-item"][data-direction="upload"] [data-testid="transfer-progress"]';
  await sampleAttributes(page, 'uploadBars', bar, ['aria-valuenow']);

  const { dragoverCancelled } = await dragOver(view, DROPPED);
  expect(dragoverCancelled, 'the folder accepts the drag (dragover cancelled, or the browser would not drop)').toBe(
    true,
  );
  // The drop target lights up while files are over it.
  await expect
    .poll(async () => look(view), {
      message: 'the drop target changes its class or aria/data attributes during the drag',
    })
    .not.toEqual(before);
  const { dropCancelled } = await drop(view);
  expect(dropCancelled, 'the folder takes the drop (or the browser would open the file)').toBe(true);
  await expect
    .poll(async () => (await look(view)).className, { message: 'the highlight goes away after the drop' })
    .toBe(before.className);

  // One transfer for the drop ("big.bin +2 more"), or one per file: either way every one ends done at 100%.
  await expect.poll(async () => (await uploads()).length, { message: 'the drop starts a transfer' }).toBeGreaterThan(0);
  await expect
    .poll(async () => (await uploads()).every((r) => TERMINAL_STATES.includes(r.state)), {
      timeout: 60_000,
      message: 'the transfers end',
    })
    .toBe(true);
  const rows = await uploads();
  expect(
    rows.length === 1 || rows.length === 3,
    `one transfer for the drop or one per file, got ${JSON.stringify(rows)}`,
  ).toBe(true);
  if (rows.length === 1) {
    expect(rows[0]!.label).toMatch(/^(big\.bin|small one\.txt|small-two\.dat)\b.*\+\s*2\b/);
  } else {
    expect(rows.map((r) => r.label).sort()).toEqual(DROPPED.map((f) => f.name).sort());
  }
  for (const r of rows) {
    expect(r, `transfer ${r.label}`).toMatchObject({ state: 'done', progress: 100 });
  }
  // The bar only ever moves forward (one transfer: one bar; per file: each bar in its place).
  const bars = (await readSamples(page, 'uploadBars')).map((s) => s.values.map((v) => Number(v['aria-valuenow'])));
  expect(bars.length, 'progress was seen').toBeGreaterThan(0);
  for (let i = 1; i < bars.length; i++) {
    bars[i]!.forEach((v, k) => {
      if (bars[i - 1]![k] !== undefined && bars[i]!.length === bars[i - 1]!.length)
        expect(v, `bar ${k} at sample ${i}`).toBeGreaterThanOrEqual(bars[i - 1]![k]!);
    });
  }

  // The bytes on B's disk, under their own names, with their times; nothing partial left over.
  const inbox = path.join(b.shared, 'inbox');
  for (const f of DROPPED) {
    const file = path.join(inbox, f.name);
    expect(fs.existsSync(file), `${file} exists`).toBe(true);
    expect(fs.statSync(file).size, f.name).toBe(f.size);
    expect(sha256File(file), `sha256 of ${f.name} on B`).toBe(expected.get(f.name));
    expect(Math.round(fs.statSync(file).mtimeMs), `mtime of ${f.name} on B (File.lastModified)`).toBe(f.mtime);
  }
  expect(fs.readdirSync(inbox).sort()).toEqual(DROPPED.map((f) => f.name).sort());
  expect(partialFiles(b.shared)).toEqual([]);

  // The open folder shows what landed in it.
  for (const f of DROPPED) await expect(remoteRow(page, f.name)).toHaveAttribute('data-kind', 'file');
  await screenshot(page, 'main');
});

test('downloads a folder: the photos tree arrives with the same bytes and times', async () => {
  const { page, a, b } = pair;
  const view = page.getByTestId('remote-view');
  // Up to the top of the share by its breadcrumb.
  await page.getByTestId('breadcrumbs').locator('button, a').first().click();
  await expect(view).toHaveAttribute('data-path', '');
  await remoteRow(page, 'photos').click();
  await expect(page.getByTestId('download-button')).toBeEnabled();
  await page.getByTestId('download-button').click();

  const item = transferItem(page, 'download', 'photos');
  await expect(item).toHaveCount(1);
  expect(await waitForEnd(item)).toBe('done');
  await expect(item.getByTestId('transfer-progress')).toHaveAttribute('aria-valuenow', '100');

  const got = path.join(a.downloads, 'photos');
  expect(fs.existsSync(got), `${got} exists`).toBe(true);
  expect(readTree(got)).toEqual(readTree(path.join(b.shared, 'photos')));
  expect(partialFiles(a.downloads)).toEqual([]);

  // The remote browser with files in it, for the docs.
  await remoteRow(page, 'photos').dblclick();
  await expect(view).toHaveAttribute('data-path', 'photos');
  await expect(remoteRow(page, 'beach.jpg')).toBeVisible();
  await screenshot(page, 'remote');
});

test('both peers stop cleanly on SIGTERM', async () => {
  for (const p of [pair.a, pair.b]) {
    const r = await p.stop();
    expect(r.signal, `${p.name} exits by itself, not killed (stderr: ${p.stderr.all()})`).toBeNull();
    expect(r.code, `${p.name}'s exit code (stderr: ${p.stderr.all()})`).toBe(0);
    expect(r.ms, `${p.name} stops promptly`).toBeLessThan(5000);
  }
});
