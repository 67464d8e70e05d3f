/**
 * Two real peers for a spec file: A, whose UI the browser drives, and B, whose shared folder
 * the tests fill, browse, send to and fetch from. Each runs `ferry ui` in its own process, and
 * each has its UI open (B's to approve pairings and uploads, as its user would).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { detBytes, MiB } from './bytes.js';
import { startPeer, type Peer } from './peer.js';
import { openUi } from './ui.js';

export interface Pair {
  a: Peer;
  b: Peer;
  context: BrowserContext;
  /** A's UI. */
  page: Page;
  /** B's UI. */
  pageB: Page;
  dispose(): Promise<void>;
}

export async function startPair(browser: Browser, fillB: (shared: string) => void): Promise<Pair> {
  const b = await startPeer({ name: 'Bravo', fill: fillB });
  let a: Peer | undefined;
  let context: BrowserContext | undefined;
  try {
    a = await startPeer({ name: 'Alpha' });
    context = await browser.newContext();
    const page = await context.newPage();
    await openUi(page, a);
    const pageB = await context.newPage();
    await openUi(pageB, b);
    const pair: Pair = {
      a,
      b,
      context,
      page,
      pageB,
      async dispose() {
        await context!.close().catch(() => undefined);
        await Promise.all([a!.dispose(), b.dispose()]);
      },
    };
    return pair;
  } catch (e) {
    await context?.close().catch(() => undefined);
    await Promise.all([a?.dispose(), b.dispose()]);
    throw e;
  }
}

/** A fixed time, so that mtimes compare exactly: 2024-05-01T09:12:34.567Z plus `k` minutes. */
export const when = (k: number): number => Date.UTC(2024, 4, 1, 9, 12, 34, 567) + k * 60_000;

/**
 * B's share: an empty `inbox/` to send into, and `photos/` with a few files and a nested folder,
 * every file and folder with its own mtime to the millisecond.
 */
export const PHOTOS: Record<string, { seed: number; size: number } | null> = {
  'photos/beach.jpg': { seed: 11, size: 3 * MiB + 17 },
  'photos/cat.png': { seed: 12, size: 200_001 },
  'photos/notes with space.txt': { seed: 13, size: 1234 },
  'photos/2023/snow.jpg': { seed: 14, size: 700_000 },
  'photos/2023/empty': null,
  'photos/2023': null,
  photos: null,
  inbox: null,
};

export function fillShare(shared: string): void {
  const entries = Object.entries(PHOTOS);
  for (const [rel, spec] of entries) {
    const abs = path.join(shared, ...rel.split('/'));
    if (spec === null) fs.mkdirSync(abs, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, detBytes(spec.seed, spec.size));
    }
  }
  // Times last, deepest first: writing into a folder changes its mtime.
  entries.forEach(([rel], k) => {
    const t = when(k) / 1000;
    fs.utimesSync(path.join(shared, ...rel.split('/')), t, t);
  });
}
