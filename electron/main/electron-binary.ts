/**
 * Can the Electron shell run here? Used by `npm start` (to fall back to the browser shell) and by
 * the Electron end-to-end spec (to skip with a reason). Node only: this never imports 'electron'.
 *
 * Since Electron 42 the npm package no longer downloads its binary on install but on first use:
 * `require('electron')` fetches it when node_modules/electron/path.txt or the file it names under
 * dist/ is missing. So presence is checked the way electron's own install.js `isInstalled()` does,
 * by reading those files, and nothing here ever starts a download.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export type ElectronBinary = { path: string; reason?: undefined } | { path?: undefined; reason: string };

/** The Electron executable if it is installed and there is a display to open a window on. */
export function findElectronBinary(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): ElectronBinary {
  const found = installedElectron(env);
  if (!found.path) return found;
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return {
      reason: 'there is no display here (DISPLAY and WAYLAND_DISPLAY are unset), so Electron cannot open a window',
    };
  }
  return found;
}

/** The Electron executable in node_modules/electron, without downloading it. */
export function installedElectron(env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed (run "npm install")' };
  }
  let relative: string | undefined;
  try {
    relative = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
  } catch {
    // never downloaded
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const exe = path.join(override, relative || defaultExecutable());
    return fs.existsSync(exe)
      ? { path: exe }
      : { reason: `ELECTRON_OVERRIDE_DIST_PATH names no Electron executable (${exe})` };
  }
  const notInstalled =
    "Electron's binary is not installed here (since Electron 42 it downloads at first launch; `npx install-electron` fetches it where there is network access)";
  if (!relative) return { reason: notInstalled };
  const exe = path.join(dir, 'dist', relative);
  return fs.existsSync(exe) ? { path: exe } : { reason: notInstalled };
}

function defaultExecutable(): string {
  if (process.platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  return process.platform === 'win32' ? 'electron.exe' : 'electron';
}
