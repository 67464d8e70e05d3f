/**
 * The Electron side of the contract: one ipcMain.handle per request name, each ending in the same
 * dispatch() table the browser shell uses, and the app's events sent to the window. The
 * renderer is untrusted: a request is answered only when it comes from the main frame of our own
 * index.html, and its argument is checked by dispatch() before the engine sees it.
 */
import type { BrowserWindow, WebFrameMain } from 'electron';
import { dialog, ipcMain } from 'electron';
import type { EventName, Events, RequestName, Result } from '../../shared/contract.js';
import { EVENT_NAMES, REQUEST_NAMES } from '../../shared/contract.js';
import type { FerryApp } from '../core/app/app-service.js';
import { dispatch, type ShellContext } from '../core/app/dispatch.js';

/** Channel names; electron/preload/preload.cts spells the same (it cannot import this file). */
export const requestChannel = (name: RequestName): string => `ferry:request:${name}`;
export const eventChannel = (name: EventName): string => `ferry:event:${name}`;

/** True when `frame` is the top frame showing `indexUrl` (query and fragment aside). */
export function isOurFrame(frame: WebFrameMain | null, indexUrl: string): boolean {
  if (!frame || frame.parent !== null) return false;
  return frame.url.split('#')[0]!.split('?')[0] === indexUrl;
}

export function registerRequests(ferry: FerryApp, indexUrl: string, window: () => BrowserWindow | undefined): void {
  const ctx: ShellContext = {
    chooseFolder: async (title) => {
      const win = window();
      const options = {
        title,
        properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[],
      };
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    chooseFiles: async (title) => {
      const win = window();
      const options = { title, properties: ['openFile', 'multiSelections'] as ('openFile' | 'multiSelections')[] };
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? [] : r.filePaths;
    },
  };
  for (const name of REQUEST_NAMES) {
    ipcMain.handle(requestChannel(name), async (event, arg: unknown): Promise<Result<unknown>> => {
      if (!isOurFrame(event.senderFrame, indexUrl)) {
        return {
          ok: false,
          error: { code: 'FERRY_ERR_BAD_ARGUMENT', message: 'Refused a request from a page that is not Ferry' },
        };
      }
      return dispatch(ferry, name, arg, ctx);
    });
  }
}

/** Send every app event to whichever window is open. */
export function forwardEvents(ferry: FerryApp, window: () => BrowserWindow | undefined): void {
  for (const name of EVENT_NAMES) forward(ferry, name, window);
}

function forward<E extends EventName>(ferry: FerryApp, name: E, window: () => BrowserWindow | undefined): void {
  const channel = eventChannel(name);
  const listener = (payload: Events[E]): void => {
    const win = window();
    if (win && !win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(channel, payload);
  };
  // The typed EventEmitter cannot see that `name` and `listener` agree for a generic E.
  (ferry as unknown as { on(n: E, l: typeof listener): void }).on(name, listener);
}
