/// <reference lib="dom" />
/**
 * What a person does in Ferry's window, as Playwright steps, by the agreed data-testids. The
 * functions passed to `evaluate` run in the page, hence the DOM types above (they are only
 * types: nothing here touches a DOM in Node).
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { DET_BYTES_SCRIPT, type DropFile } from './bytes.js';
import type { Peer } from './peer.js';

export const TERMINAL_STATES = ['done', 'failed', 'cancelled'];

/** Open the peer's browser shell and wait until the device panel shows its name. */
export async function openUi(page: Page, peer: Peer): Promise<void> {
  await page.addInitScript({ content: DET_BYTES_SCRIPT });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(peer.url);
  await expect
    .poll(() => shownText(page.getByTestId('device-name')), {
      message: `the UI at ${peer.url} shows the device name (page errors: ${errors.join('; ')})`,
    })
    .toContain(peer.name);
}

/** What a person reads in an element: a field's value, or the element's text. */
export async function shownText(el: Locator): Promise<string> {
  if ((await el.count()) !== 1) return '';
  return el.evaluate((e: Element) =>
    e instanceof HTMLInputElement || e instanceof HTMLTextAreaElement ? e.value : (e.textContent ?? ''),
  );
}

export function peerItem(page: Page, address: string): Locator {
  return page.locator(`[data-testid="peer-item"][data-peer-address="${address}"]`);
}

export function remoteRow(page: Page, name: string): Locator {
  return page.locator(`[data-testid="remote-row"][data-name="${name}"]`);
}

/** The UI's drop target highlight, as the attributes a stylesheet or a screen reader sees. */
export interface TargetLook {
  className: string;
  attrs: Record<string, string>;
}

export function look(target: Locator): Promise<TargetLook> {
  return target.evaluate((el: Element) => {
    const attrs: Record<string, string> = {};
    for (const a of Array.from(el.attributes)) {
      if (a.name !== 'class' && a.name !== 'style' && a.name !== 'data-path') attrs[a.name] = a.value;
    }
    return { className: el.getAttribute('class') ?? '', attrs };
  });
}

interface DropState {
  dt: DataTransfer;
  x: number;
  y: number;
}

type PageGlobals = typeof globalThis & {
  __ferryDetBytes: (seed: number, size: number) => Uint8Array<ArrayBuffer>;
  __ferryDrop?: DropState;
};

/**
 * Start dragging `files` over `target` the way the browser does when a person drags files from
 * the desktop: a DataTransfer holding real File objects (bytes made in the page from the seeds),
 * then dragenter and dragover at the target's centre. Returns whether the UI accepted the drag
 * (a real browser only fires drop on a target whose dragover was cancelled).
 */
export async function dragOver(target: Locator, files: DropFile[]): Promise<{ dragoverCancelled: boolean }> {
  return target.evaluate((el: Element, list: DropFile[]) => {
    const g = globalThis as PageGlobals;
    const dt = new DataTransfer();
    for (const f of list) {
      dt.items.add(
        new File([g.__ferryDetBytes(f.seed, f.size)], f.name, {
          type: 'application/octet-stream',
          lastModified: f.mtime,
        }),
      );
    }
    dt.effectAllowed = 'all';
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    g.__ferryDrop = { dt, x, y };
    const init = { bubbles: true, cancelable: true, composed: true, dataTransfer: dt, clientX: x, clientY: y };
    el.dispatchEvent(new DragEvent('dragenter', init));
    const over = new DragEvent('dragover', init);
    el.dispatchEvent(over);
    return { dragoverCancelled: over.defaultPrevented };
  }, files);
}

/** Finish the drag started by dragOver(): drop on `target`. Returns whether the UI took the drop. */
export async function drop(target: Locator): Promise<{ dropCancelled: boolean }> {
  return target.evaluate((el: Element) => {
    const g = globalThis as PageGlobals;
    const d = g.__ferryDrop;
    if (!d) throw new Error('drop() without dragOver()');
    const init = { bubbles: true, cancelable: true, composed: true, dataTransfer: d.dt, clientX: d.x, clientY: d.y };
    el.dispatchEvent(new DragEvent('dragover', init));
    const ev = new DragEvent('drop', init);
    el.dispatchEvent(ev);
    // The page keeps the File objects (the engine reads them on demand); the drag is over.
    delete g.__ferryDrop;
    return { dropCancelled: ev.defaultPrevented };
  });
}

export interface TransferRow {
  label: string;
  state: string;
  direction: string;
  /** transfer-progress aria-valuenow, or null when the row shows no bar. */
  progress: number | null;
}

/** Every row of the transfer list, top to bottom. */
export function transferRows(page: Page): Promise<TransferRow[]> {
  return page.getByTestId('transfer-item').evaluateAll((els: Element[]) =>
    els.map((el) => {
      const bar = el.querySelector('[data-testid="transfer-progress"]');
      const now = bar?.getAttribute('aria-valuenow');
      return {
        label: el.getAttribute('data-label') ?? '',
        state: el.getAttribute('data-state') ?? '',
        direction: el.getAttribute('data-direction') ?? '',
        progress: now == null || now === '' ? null : Number(now),
      };
    }),
  );
}

export function transferItem(page: Page, direction: 'upload' | 'download', label: string): Locator {
  return page.locator(`[data-testid="transfer-item"][data-direction="${direction}"][data-label="${label}"]`);
}

/** Wait for a transfer row to end, and return how it ended. */
export async function waitForEnd(item: Locator, timeoutMs = 60_000): Promise<string> {
  await expect(item).toHaveAttribute('data-state', /^(done|failed|cancelled)$/, { timeout: timeoutMs });
  return (await item.getAttribute('data-state')) ?? '';
}

/**
 * Record every value an attribute takes on the elements matching `selector`, from now on, in
 * the page (a MutationObserver sees each render, however fast the transfer). Read them back
 * with readSamples().
 */
export async function sampleAttributes(page: Page, key: string, selector: string, names: string[]): Promise<void> {
  await page.evaluate(
    ({ key, selector, names }) => {
      const g = globalThis as unknown as Record<string, unknown>;
      const samples: { t: number; values: Record<string, string | null>[] }[] = [];
      const take = (): void => {
        const values = Array.from(document.querySelectorAll(selector)).map((el) => {
          const v: Record<string, string | null> = {};
          for (const n of names) v[n] = el.getAttribute(n);
          return v;
        });
        if (values.length > 0) samples.push({ t: performance.now(), values });
      };
      const obs = new MutationObserver(take);
      obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: names });
      take();
      g[key] = { samples, stop: () => obs.disconnect() };
    },
    { key, selector, names },
  );
}

export async function readSamples(
  page: Page,
  key: string,
): Promise<{ t: number; values: Record<string, string | null>[] }[]> {
  return page.evaluate((key) => {
    const g = globalThis as unknown as Record<
      string,
      { samples: { t: number; values: Record<string, string | null>[] }[]; stop: () => void }
    >;
    const s = g[key];
    if (!s) return [];
    s.stop();
    return s.samples;
  }, key);
}
