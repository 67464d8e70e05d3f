/**
 * Pairing through the UI, end to end, with two real peers and both of their windows open: A
 * adds B and asks to pair; both screens show the same 6-digit code and each other's device
 * IDs; B approves and both show the other as paired; A browses B; an upload from A waits on
 * B's screen (file names and size) until B accepts, and the bytes land; B forgets A, and A's
 * next refresh is refused in words; A pairs again from there (declined once, then approved).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { detBytes, type DropFile, sha256 } from './helpers/bytes.js';
import { type Pair, startPair, when } from './helpers/pair.js';
import { screenshot } from './helpers/screenshots.js';
import { sha256File } from './helpers/tree.js';
import { addPeer, deviceIdOf, pairingCode, peerByDeviceId } from './helpers/trust.js';
import { dragOver, drop, peerItem, remoteRow, shownText, transferItem, waitForEnd } from './helpers/ui.js';

test.describe.configure({ mode: 'serial' });

let pair: Pair;
let idA: string;
let idB: string;

test.beforeAll(async ({ browser }) => {
  pair = await startPair(browser, (shared) => {
    fs.mkdirSync(path.join(shared, 'inbox'));
    fs.writeFileSync(path.join(shared, 'readme.txt'), 'shared by Bravo\n');
  });
  [idA, idB] = [await deviceIdOf(pair.page), await deviceIdOf(pair.pageB)];
});

test.afterAll(async () => {
  await pair?.dispose();
});

test('each device shows its own ID: the short form, the whole of it in the tooltip', async () => {
  const { page } = pair;
  expect(idA).not.toBe(idB);
  await expect(page.getByTestId('device-id')).toHaveText(idA.slice(0, 7));
  await expect(page.getByTestId('device-id')).toHaveAttribute('title', idA);
  // The ID is the one `ferry id` would print: the certificate made on first run in A's home.
  expect(fs.existsSync(path.join(pair.a.home, 'identity', 'cert.pem'))).toBe(true);
});

test('an added peer is not paired: browsing it says "Pair first", in words', async () => {
  const { page, b } = pair;
  const item = await addPeer(page, b.address);
  await expect(item.getByTestId('peer-trust')).toHaveAttribute('data-trusted', 'false');
  await expect(item.getByTestId('peer-trust')).toContainText('Not paired');
  await expect(item).toHaveAttribute('data-device-id', idB);
  await item.locator('button.select').click();
  await expect(page.getByTestId('remote-pair-first')).toContainText('Pair first');
  await expect(page.getByTestId('remote-row')).toHaveCount(0);
});

test('pairs: both screens show the same code and each other, B approves, both show paired', async () => {
  const { page, pageB, b } = pair;
  await peerItem(page, b.address).getByTestId('peer-pair').click();
  const dialogA = page.getByTestId('pairing-dialog');
  const dialogB = pageB.getByTestId('pairing-dialog');
  await expect(dialogA).toHaveAttribute('data-direction', 'outgoing');
  await expect(dialogB).toHaveAttribute('data-direction', 'incoming');

  const code = await pairingCode(page);
  expect(code).toMatch(/^\d{6}$/);
  expect(await pairingCode(pageB)).toBe(code);
  await expect(dialogA.getByTestId('pairing-peer-id')).toHaveText(idB);
  await expect(dialogB.getByTestId('pairing-peer-id')).toHaveText(idA);
  await expect(dialogA).toContainText('Bravo');
  await expect(dialogB).toContainText('Alpha');
  // Only the asked side approves; the asking side may only cancel.
  await expect(dialogA.getByTestId('pairing-approve')).toHaveCount(0);
  await expect(dialogA.getByTestId('pairing-cancel')).toBeVisible();
  await expect(dialogB.getByTestId('pairing-decline')).toBeVisible();
  await screenshot(pageB, 'pairing');

  await dialogB.getByTestId('pairing-approve').click();
  await expect(dialogA).toHaveCount(0);
  await expect(dialogB).toHaveCount(0);
  await expect(peerItem(page, b.address).getByTestId('peer-trust')).toHaveAttribute('data-trusted', 'true');
  // B never added A: A is listed on B as a paired device, with what it may do.
  const onB = peerByDeviceId(pageB, idA);
  await expect(onB.getByTestId('peer-trust')).toHaveAttribute('data-trusted', 'true');
  await onB.getByTestId('peer-permissions-toggle').click();
  await expect(onB.getByTestId('perm-browse')).toBeChecked();
  await expect(onB.getByTestId('perm-send')).toBeChecked();
  await expect(onB.getByTestId('perm-auto')).not.toBeChecked();
});

test('A browses B once paired', async () => {
  const { page } = pair;
  // The folder opens by itself once the peer on screen is paired.
  await expect(remoteRow(page, 'inbox')).toHaveAttribute('data-kind', 'dir');
  await expect(remoteRow(page, 'readme.txt')).toHaveAttribute('data-kind', 'file');
});

const SENT: DropFile[] = [
  { name: 'holiday.bin', seed: 31, size: 2_500_000, mtime: when(300) },
  { name: 'list.txt', seed: 32, size: 4321, mtime: when(301) },
];

test('an upload waits for B: B sees the file names and size, accepts, and the bytes land', async () => {
  const { page, pageB, b } = pair;
  const view = page.getByTestId('remote-view');
  await remoteRow(page, 'inbox').dblclick();
  await expect(view).toHaveAttribute('data-path', 'inbox');
  expect((await dragOver(view, SENT)).dragoverCancelled).toBe(true);
  expect((await drop(view)).dropCancelled).toBe(true);

  const request = pageB.getByTestId('upload-request');
  await expect(request).toHaveCount(1);
  await expect(request).toContainText('Alpha wants to send you 2 files (2.4 MiB)');
  await expect(request.getByRole('listitem')).toHaveText(['holiday.bin', 'list.txt']);
  // Nothing lands while B has not answered.
  expect(fs.readdirSync(path.join(b.shared, 'inbox'))).toEqual([]);
  await screenshot(pageB, 'upload-request');
  await request.getByTestId('upload-accept').click();
  await expect(request).toHaveCount(0);

  const item = transferItem(page, 'upload', 'holiday.bin +1 more');
  expect(await waitForEnd(item)).toBe('done');
  for (const f of SENT) {
    const file = path.join(b.shared, 'inbox', f.name);
    expect(sha256File(file), `the bytes of ${f.name} on B`).toBe(sha256(detBytes(f.seed, f.size)));
  }
});

test('B forgets A: it leaves B\'s list, and A\'s next refresh is refused with the "not paired" words', async () => {
  const { page, pageB } = pair;
  const onB = peerByDeviceId(pageB, idA);
  if ((await onB.getByTestId('peer-untrust').count()) === 0) await onB.getByTestId('peer-permissions-toggle').click();
  await onB.getByTestId('peer-untrust').click();
  await expect(pageB.getByTestId('confirm-dialog')).toContainText('Forget Alpha?');
  await pageB.getByTestId('confirm-ok').click();
  await expect(onB).toHaveCount(0);

  await page.getByTestId('refresh-button').click();
  const error = page.getByTestId('remote-error');
  await expect(error).toContainText('Not paired');
  await expect(error).toContainText(/Bravo refused: .*not been paired/);
  await expect(page.getByTestId('remote-row')).toHaveCount(0);
});

test('A pairs again from the refusal: declined once (A is told), then approved, and browsing works again', async () => {
  const { page, pageB } = pair;
  await page.getByTestId('remote-error').getByTestId('remote-pair').click();
  await expect(pageB.getByTestId('pairing-dialog')).toHaveAttribute('data-direction', 'incoming');
  await pageB.getByTestId('pairing-decline').click();
  const outcome = page.getByTestId('pairing-outcome');
  await expect(outcome).toHaveText('Bravo declined: nothing changed.');
  await page.getByTestId('pairing-close').click();
  await expect(page.getByTestId('pairing-dialog')).toHaveCount(0);

  await page.getByTestId('remote-error').getByTestId('remote-pair').click();
  const code = await pairingCode(page);
  expect(await pairingCode(pageB)).toBe(code);
  await pageB.getByTestId('pairing-approve').click();
  await expect(peerByDeviceId(pageB, idA).getByTestId('peer-trust')).toHaveAttribute('data-trusted', 'true');
  await page.getByTestId('refresh-button').click();
  await expect(remoteRow(page, 'list.txt')).toHaveAttribute('data-kind', 'file');
  expect(await shownText(page.getByTestId('remote-error'))).toBe('');
});

test('both peers stop cleanly on SIGTERM', async () => {
  for (const p of [pair.a, pair.b]) {
    const r = await p.stop();
    expect(r.code, `${p.name}'s exit code (stderr: ${p.stderr.all()})`).toBe(0);
  }
});
