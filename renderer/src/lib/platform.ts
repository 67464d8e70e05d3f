/**
 * The page's own facilities (not the engine: that is bridge.ts): clipboard, animation frames,
 * page visibility, pixel ratio. Components use these instead of reaching for window.* so that
 * tests can hand in stand-ins.
 */

/** What a frame loop needs from the page. */
export interface FrameHost {
  request(cb: (time: number) => void): number;
  cancel(id: number): void;
  hidden(): boolean;
  /** Calls back when the page is shown or hidden; returns the unsubscribe. */
  onVisibilityChange(cb: () => void): () => void;
}

export const pageFrames: FrameHost = {
  request: (cb) => window.requestAnimationFrame(cb),
  cancel: (id) => window.cancelAnimationFrame(id),
  hidden: () => document.visibilityState === 'hidden',
  onVisibilityChange: (cb) => {
    document.addEventListener('visibilitychange', cb);
    return () => document.removeEventListener('visibilitychange', cb);
  },
};

export function pixelRatio(): number {
  return Math.max(1, Math.min(3, window.devicePixelRatio || 1));
}

/** Copy text to the clipboard; false when the page may not. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No async clipboard (an Electron window that grants no permissions, an insecure origin):
    // the old way, a selected field and the copy command.
    const field = document.createElement('textarea');
    field.value = text;
    field.setAttribute('readonly', '');
    field.className = 'visually-hidden';
    document.body.append(field);
    field.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    } finally {
      field.remove();
    }
  }
}

/**
 * A file dropped outside every drop target would make the browser open it in place of the app:
 * refuse such drops page-wide. Drop targets call preventDefault themselves and still work.
 */
export function preventStrayDrops(): void {
  const refuse = (e: DragEvent) => {
    if (e.defaultPrevented) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'none';
  };
  window.addEventListener('dragover', refuse);
  window.addEventListener('drop', refuse);
}
