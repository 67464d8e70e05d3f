/**
 * Screenshots of the main views for the README and docs/, taken by the tests at the moment the
 * view shows something real (a peer online, a folder open, a transfer running). They are saved
 * to docs/screenshots/NAME.png, unless FERRY_E2E_SCREENSHOTS=0 (a CI run that should leave the
 * working tree alone), and attached to the test's report either way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Page, test } from '@playwright/test';
import { REPO } from './peer.js';

export const SCREENSHOT_DIR = path.join(REPO, 'docs', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ animations: 'disabled', caret: 'hide' });
  await test.info().attach(`${name}.png`, { body: png, contentType: 'image/png' });
  if (process.env.FERRY_E2E_SCREENSHOTS === '0') return;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  fs.writeFileSync(path.join(SCREENSHOT_DIR, `${name}.png`), png);
}
