/**
 * `ferry ui`: the desktop UI in a browser tab, for machines without Electron. Starts the app
 * service and the browser shell, prints on stdout exactly
 *
 *   ui at http://127.0.0.1:PORT/?token=TOKEN
 *   listening on HOST:PORT                      (the Ferry server, when it could start)
 *
 * opens the browser, and runs until SIGINT or SIGTERM, which close both cleanly (exit code 0).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FerryError } from '../../shared/errors.js';
import { FerryApp } from '../core/app/app-service.js';
import type { StoredSettings } from '../core/app/settings.js';
import { defaultRendererDir } from '../web/renderer-dir.js';
import { startWebShell, type WebShell } from '../web/shell.js';
import { err, oneLine, out } from './output.js';
import { untilSignal } from './signals.js';

export interface UiOptions {
  home: string;
  /** Port of the browser shell on 127.0.0.1 (0: any free one). */
  port: number;
  open: boolean;
  /** Shared folder, download folder and Ferry server port from the flags, when given. */
  sharedFolder?: string;
  downloadFolder?: string;
  servePort?: number;
  rendererDir?: string;
}

/** How long a stop may take before the process leaves anyway. */
const STOP_GRACE_MS = 3000;

export async function ui(opts: UiOptions): Promise<number> {
  const rendererDir = opts.rendererDir ?? defaultRendererDir();
  if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
    throw new FerryError(
      'FERRY_ERR_NOT_FOUND',
      `the user interface is not built (${path.join(rendererDir, 'index.html')} is missing): run "npm run build" first`,
    );
  }

  const stopped = untilSignal();

  const flags: Partial<StoredSettings> = {
    ...(opts.sharedFolder !== undefined ? { sharedFolder: opts.sharedFolder } : {}),
    ...(opts.downloadFolder !== undefined ? { downloadFolder: opts.downloadFolder } : {}),
    ...(opts.servePort !== undefined ? { port: opts.servePort } : {}),
  };
  const app = await FerryApp.start({ home: opts.home, defaults: flags });
  // Defaults only fill a first run's settings; a flag typed now wins over what was saved before
  // (updateDevice restarts the server only when something actually changed).
  let shell: WebShell;
  try {
    if (Object.keys(flags).length > 0) await app.updateDevice(flags);
    shell = await startWebShell({ app, port: opts.port, rendererDir });
  } catch (e) {
    await app.close();
    throw e;
  }
  out(`ui at ${shell.url}`);
  const device = app.device();
  if (device.serving) out(`listening on ${device.address}`);
  else err(`warning: not sharing ${device.sharedFolder}: ${oneLine(device.error?.message ?? 'serving is off')}`);
  if (opts.open) openBrowser(shell.url);

  await stopped;
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
  await Promise.race([Promise.all([shell.close(), app.close()]), timeout]);
  return 0;
}

/** Hand the URL to the desktop's browser; if there is none, the printed line is enough. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener on this machine
  }
}
