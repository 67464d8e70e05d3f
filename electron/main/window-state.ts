/**
 * The window's size and position between runs: a small JSON file in Ferry's home. A saved place
 * that no display shows any more (a monitor unplugged) is dropped, so the window never opens
 * off screen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserWindow, Rectangle } from 'electron';
import { screen } from 'electron';

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

const FILE = 'window.json';
const DEFAULT: WindowState = { width: 1100, height: 720, maximized: false };
const MIN_WIDTH = 640;
const MIN_HEIGHT = 420;

export function loadWindowState(home: string): WindowState {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(home, FILE), 'utf8')) as Partial<WindowState>;
    const int = (v: unknown): v is number => Number.isSafeInteger(v);
    if (!int(raw.width) || !int(raw.height)) return DEFAULT;
    const size = {
      width: Math.max(MIN_WIDTH, raw.width),
      height: Math.max(MIN_HEIGHT, raw.height),
      maximized: raw.maximized === true,
    };
    if (!int(raw.x) || !int(raw.y)) return size;
    const bounds = { x: raw.x, y: raw.y, width: size.width, height: size.height };
    return visible(bounds) ? { ...size, x: raw.x, y: raw.y } : size;
  } catch {
    return DEFAULT;
  }
}

/** At least a corner of the title bar is on some display's work area. */
function visible(b: Rectangle): boolean {
  return screen.getAllDisplays().some(({ workArea: a }) => {
    const overlapX = Math.min(b.x + b.width, a.x + a.width) - Math.max(b.x, a.x);
    const overlapY = Math.min(b.y + 40, a.y + a.height) - Math.max(b.y, a.y);
    return overlapX >= 100 && overlapY > 0;
  });
}

export function saveWindowState(home: string, win: BrowserWindow): void {
  const b = win.getNormalBounds();
  const state: WindowState = { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() };
  try {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(home, FILE), JSON.stringify(state) + '\n', { mode: 0o600 });
  } catch {
    // Losing the window's place is not worth an error dialog.
  }
}

export const WINDOW_MIN = { minWidth: MIN_WIDTH, minHeight: MIN_HEIGHT };
