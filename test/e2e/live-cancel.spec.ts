/**
 * Large transfers in Ferry's window: the live view (block map and socket lanes) moving while a
 * dropped file uploads, and a download cancelled while it runs, which must leave nothing on
 * disk: no file under the final name, no partial file, no journal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { detBytes, type DropFile, MiB, sha256 } from './helpers/bytes.js';
import { type Pair, startPair, when } from './helpers/pair.js';
import { screenshot } from './helpers/screenshots.js';
import { partialFiles, sha256File, writeSparse } from './helpers/tree.js';
import { pairThroughUi } from './helpers/trust.js';
import {
  dragOver,
  drop,
  look,
  peerItem,
  readSamples,
  remoteRow,
  sampleAttributes,
  transferItem,
  waitForEnd,
} from './helpers/ui.js';

test.describe.configure({ mode: 'serial' });

/**
 * Big enough to still be running when the cancel button is clicked: about 11 s here, where a
 * download runs at ~90 MiB/s (mostly the disk), and still a second at 1 GiB/s.
 */
const HUGE = { name: 'huge.bin', size: 1024 * MiB };
/** Big enough for many blocks and several live-view frames; made in the page, so not too big. */
const LARGE: DropFile = { name: 'large upload.bin', seed: 7, size: 128 * MiB, mtime: when(200) };

let pair: Pair;

test.beforeAll(async ({ browser }) => {
  pair = await startPair(browser, (shared) => {
    writeSparse(path.join(shared, HUGE.name), HUGE.size, detBytes(9, 64 * 1024));
    fs.mkdirSync(path.join(shared, 'inbox'));
  });
  const { page, b } = pair;
  await page.getByTestId('peer-add-input').fill(b.address);
  await page.getByTestId('peer-add-input').press('Enter');
  await expect(peerItem(page, b.address)).toHaveAttribute('data-online', 'true');
  await pairThroughUi(pair, { autoAccept: true });
});

test.afterAll(async () => {
  await pair?.dispose();
});

test('the block map and the socket lanes move while a dropped file uploads to the peer', async () => {
  const { page, b } = pair;
  const target = peerItem(page, b.address);
  // A folder of B is open, but the drop goes on the peer itself: to the top of its share.
  await target.click();
  await remoteRow(page, 'inbox').dblclick();
  await expect(page.getByTestId('remote-view')).toHaveAttribute('data-path', 'inbox');
  await sampleAttributes(page, 'blockMap', '[data-testid="block-map"]', ['data-blocks', 'data-verified']);
  await sampleAttributes(page, 'lanes', '[data-testid="socket-lane"]', ['data-socket-id', 'data-bytes-sent']);

  const before = await look(target);
  expect((await dragOver(target, [LARGE])).dragoverCancelled, 'the peer accepts the drag').toBe(true);
  await expect.poll(async () => look(target), { message: 'the peer lights up under the drag' }).not.toEqual(before);
  expect((await drop(target)).dropCancelled, 'the peer takes the drop').toBe(true);

  const t0 = Date.now();
  const item = transferItem(page, 'upload', LARGE.name);
  await expect(item).toHaveCount(1);
  await expect(item).toHaveAttribute('data-state', /^(running|verifying|done)$/);
  // The live view shows the running transfer (opening it by a click where it is not shown by itself).
  if ((await page.getByTestId('block-map').count()) === 0) await item.click();
  const map = page.getByTestId('block-map');
  await expect(map).toBeVisible();
  await expect
    .poll(async () => Number(await map.getAttribute('data-verified')), { message: 'blocks get verified' })
    .toBeGreaterThan(0);
  // The picture for the docs a third of the way in, when the map shows both sides.
  await expect
    .poll(
      async () => Number(await map.getAttribute('data-verified')) * 3 >= Number(await map.getAttribute('data-blocks')),
      { intervals: [50] },
    )
    .toBe(true);
  await screenshot(page, 'transfers');

  expect(await waitForEnd(item, 60_000)).toBe('done');
  test.info().annotations.push({
    type: 'speed',
    description: `${LARGE.size / MiB} MiB dropped and uploaded in ${Date.now() - t0} ms`,
  });
  await expect(item.getByTestId('transfer-progress')).toHaveAttribute('aria-valuenow', '100');
  expect(fs.existsSync(path.join(b.shared, 'inbox', LARGE.name)), 'not into the open folder').toBe(false);
  const file = path.join(b.shared, LARGE.name);
  expect(sha256File(file), 'the uploaded bytes on B').toBe(sha256(detBytes(LARGE.seed, LARGE.size)));
  expect(Math.round(fs.statSync(file).mtimeMs)).toBe(LARGE.mtime);

  const maps = (await readSamples(page, 'blockMap')).map((s) => s.values[0]!);
  const total = Math.max(...maps.map((m) => Number(m['data-blocks'])));
  const verified = maps.map((m) => Number(m['data-verified']));
  expect(total, 'the block map has blocks').toBeGreaterThan(1);
  // Seen partway: more than none and fewer than all, at more than one point in time.
  const partway = [...new Set(verified.filter((v) => v > 0 && v < total))];
  expect(
    partway.length,
    `verified counts seen partway (of ${total}): ${JSON.stringify(verified.slice(0, 50))}`,
  ).toBeGreaterThanOrEqual(2);
  // And never going back while the one transfer runs.
  const upTo = verified.findIndex((v) => v === total);
  const running = upTo < 0 ? verified : verified.slice(0, upTo + 1);
  for (let i = 1; i < running.length; i++)
    expect(running[i]!, `verified count at sample ${i}`).toBeGreaterThanOrEqual(running[i - 1]!);

  const lanes = (await readSamples(page, 'lanes')).flatMap((s) => s.values);
  expect(lanes.length, 'socket lanes appeared').toBeGreaterThan(0);
  const sent = Math.max(...lanes.map((l) => Number(l['data-bytes-sent'])));
  expect(sent, 'a socket lane shows bytes sent').toBeGreaterThan(0);
});

test('cancelling a running download leaves nothing behind on the receiving side', async () => {
  const { page, a } = pair;
  // Watch the download folder for the whole transfer: the final name must never appear.
  const seen = new Set<string>();
  const watcher = fs.watch(a.downloads, (_event, name) => name && seen.add(name.toString()));
  try {
    await peerItem(page, pair.b.address).click();
    await expect(page.getByTestId('remote-view')).toHaveAttribute('data-path', '');
    await remoteRow(page, HUGE.name).click();
    await page.getByTestId('download-button').click();

    const item = transferItem(page, 'download', HUGE.name);
    await expect(item).toHaveAttribute('data-state', 'running');
    // Cancel once some bytes are in, so that there is a partial file to clean up.
    await expect
      .poll(async () => Number(await item.getByTestId('transfer-progress').getAttribute('aria-valuenow')), {
        intervals: [20],
      })
      .toBeGreaterThan(0);
    await item.getByTestId('transfer-cancel').click();
    expect(await waitForEnd(item, 20_000)).toBe('cancelled');
    const progress = Number(await item.getByTestId('transfer-progress').getAttribute('aria-valuenow'));
    test
      .info()
      .annotations.push({ type: 'progress', description: `cancelled at ${progress}% of ${HUGE.size / MiB} MiB` });
    expect(progress, 'it was stopped partway').toBeLessThan(100);

    const final = path.join(a.downloads, HUGE.name);
    expect(fs.existsSync(final), `${final} after cancel`).toBe(false);
    await expect
      .poll(() => partialFiles(a.downloads), { message: 'partial files and journals are removed' })
      .toEqual([]);
    // Something was received before the cancel: the watcher saw the partial file come and go.
    expect(
      [...seen].some((n) => n.endsWith('.ferrypart')),
      `names seen: ${[...seen].join(', ')}`,
    ).toBe(true);
  } finally {
    watcher.close();
  }
  expect(seen.has(HUGE.name), 'the final name never appeared').toBe(false);
  expect(fs.readdirSync(a.downloads)).toEqual([]);
});
