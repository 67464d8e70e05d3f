/**
 * The Electron shell: one window showing the built renderer, the app service behind it, and the
 * contract between them over IPC (ipc.ts). The window is locked down as Electron's security
 * checklist asks: context isolation, sandbox, no node in the page, no navigation away from our
 * index.html, no new windows, no permissions, no webviews. Links to http(s) open in the
 * system browser.
 *
 * Settings live where `ferry ui` keeps them (FERRY_HOME, else the platform's config folder), so
 * the desktop app and its browser-shell fallback see the same device and peers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, session, shell } from 'electron';
import { FerryApp } from '../core/app/app-service.js';
import { defaultHome } from '../core/app/settings.js';
import { forwardEvents, registerRequests } from './ipc.js';
import { loadWindowState, saveWindowState, WINDOW_MIN } from './window-state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/electron/main -> dist/renderer and dist/electron/preload. */
const INDEX_HTML = path.join(here, '..', '..', 'renderer', 'index.html');
const INDEX_URL = pathToFileURL(INDEX_HTML).href;
const PRELOAD = path.join(here, '..', 'preload', 'preload.cjs');

let ferry: FerryApp | undefined;
let win: BrowserWindow | undefined;
let home = '';

function sameDocument(url: string): boolean {
  return url.split('#')[0]!.split('?')[0] === INDEX_URL;
}

function openOutside(url: string): void {
  if (/^https?:\/\//i.test(url)) void shell.openExternal(url).catch(() => undefined);
}

/** Rules for every web contents the app ever creates, not only our window's. */
app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (event) => {
    if (sameDocument(event.url)) return;
    event.preventDefault();
    openOutside(event.url);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
});

async function createWindow(): Promise<void> {
  const state = loadWindowState(home);
  const w = new BrowserWindow({
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    width: state.width,
    height: state.height,
    ...WINDOW_MIN,
    title: 'Ferry',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  win = w;
  if (state.maximized) w.maximize();
  w.once('ready-to-show', () => w.show());
  w.on('close', () => saveWindowState(home, w));
  w.on('focus', () => w.flashFrame(false));
  w.on('closed', () => {
    if (win === w) win = undefined;
  });
  await w.loadFile(INDEX_HTML);
}

async function start(): Promise<void> {
  if (!fs.existsSync(INDEX_HTML)) {
    dialog.showErrorBox('Ferry is not built', `${INDEX_HTML} is missing: run "npm run build" first.`);
    app.exit(1);
    return;
  }
  // The page needs no camera, notifications or anything else a permission guards.
  // Everything denied but writing to the clipboard (the Copy button of the device address).
  const allowed = new Set(['clipboard-sanitized-write']);
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(allowed.has(permission)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission) => allowed.has(permission));

  home = defaultHome();
  ferry = await FerryApp.start({ home });
  registerRequests(ferry, INDEX_URL, () => win);
  forwardEvents(ferry, () => win);
  // A pairing or an upload waiting for an answer times out: draw the user's eye to the window.
  const attention = (v: { state: string }): void => {
    if (v.state === 'waiting' && win && !win.isDestroyed() && !win.isFocused()) win.flashFrame(true);
  };
  ferry.on('pairing', attention);
  ferry.on('upload-request', attention);
  await createWindow();
}

if (!app.requestSingleInstanceLock()) {
  // A second Ferry on the same settings would fight over the port and the peer list.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (!win && ferry) void createWindow();
  });
  // Close the engine before leaving: transfers pause, partial files keep their journals.
  let closing: Promise<void> | undefined;
  let closed = false;
  app.on('will-quit', (event) => {
    if (closed || !ferry) return;
    event.preventDefault();
    closing ??= ferry
      .close()
      .catch(() => undefined)
      .finally(() => {
        closed = true;
        app.quit();
      });
  });
  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      dialog.showErrorBox('Ferry could not start', err instanceof Error ? err.message : String(err));
      app.exit(1);
    });
}
