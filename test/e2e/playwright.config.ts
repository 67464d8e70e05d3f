/**
 * End-to-end tests: the real UI in a real browser (Debian's chromium, never a downloaded one),
 * driving real Ferry peers in their own processes. Two projects: `browser` (test/e2e, the
 * browser shell started by `ferry ui`) and `electron` (test/electron, which skips itself where
 * Electron's binary cannot run).
 *
 *   npx playwright test -c test/e2e/playwright.config.ts
 *
 * Needs `npm run build` (the CLI and the shells) and the renderer in dist/renderer; the global
 * setup says which is missing.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ReporterDescription } from '@playwright/test';

const here = path.dirname(fileURLToPath(import.meta.url));
// CI sums results from this file, as it does from FERRY_VITEST_JSON for vitest.
const json = process.env.FERRY_E2E_JSON;
const reporter: ReporterDescription[] = [['list']];
// Resolved from where the command runs (Playwright would resolve it from this folder).
if (json) reporter.push(['json', { outputFile: path.resolve(json) }]);

export default defineConfig({
  globalSetup: path.join(here, 'global-setup.ts'),
  // One worker: the machines have 2 cores, and each test already runs two peers and a browser.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // A whole file (two peers, a browser, a 256 MiB upload) stays well under this; a hang fails.
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter,
  // Traces and failure screenshots go outside the repository.
  outputDir: path.join(os.tmpdir(), 'ferry-e2e-results'),
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
    launchOptions: {
      // Debian's chromium package; Playwright must never download a browser here.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'browser', testDir: here, testMatch: '**/*.spec.ts' },
    { name: 'electron', testDir: path.join(here, '..', 'electron'), testMatch: '**/*.spec.ts' },
  ],
});
