/**
 * Before any end-to-end test: check that what the tests run has been built, and say how to
 * build it, rather than failing later with a page that never loads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './helpers/peer.js';

export default function globalSetup(): void {
  const missing: string[] = [];
  const cli = path.join(REPO, 'dist', 'electron', 'cli', 'main.js');
  const renderer = path.join(REPO, 'dist', 'renderer', 'index.html');
  if (!fs.existsSync(cli)) missing.push(`${cli} (run "npm run build")`);
  if (!fs.existsSync(renderer)) missing.push(`${renderer} (run "npx vite build --config renderer/vite.config.ts")`);
  if (!fs.existsSync('/usr/bin/chromium')) missing.push('/usr/bin/chromium (apt-get install -y chromium)');
  if (missing.length > 0) throw new Error(`the end-to-end tests need:\n  ${missing.join('\n  ')}`);
}
