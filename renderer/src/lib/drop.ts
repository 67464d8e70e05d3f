/**
 * Files and folders a person drops on the page or picks with a file input, turned into what the
 * engine sends. In Electron a dropped File has a path (bridge.pathForFile) and the engine walks
 * folders itself. In a browser it has none: folders are walked here through the entries API
 * (DataTransferItem.webkitGetAsEntry), empty folders kept, and each file's bytes are read on
 * demand through its registered handle.
 */
import type { StreamedEntry } from '../../../shared/contract.js';

export interface PickedEntry {
  /** Relative path, '/'-separated, as it will land. */
  path: string;
  kind: 'file' | 'dir';
  file?: File;
  size: number;
  mtime: number;
}

/**
 * What a drop carried, taken while the drop event runs (the browser empties the DataTransfer
 * afterwards): an entry per item where the browser gives one (real drags from the desktop),
 * else the File itself (a DataTransfer built by a script has files but no entries).
 */
export type DropPayload = (FileSystemEntry | File)[];

export function captureDrop(dt: DataTransfer): DropPayload {
  const items = [...(dt.items ?? [])].filter((i) => i.kind === 'file');
  if (items.length === 0) return [...dt.files];
  const out: DropPayload = [];
  for (const item of items) {
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    const file = entry ? null : item.getAsFile();
    if (entry) out.push(entry);
    else if (file) out.push(file);
  }
  return out;
}

/** True when a drag carries files (not text or a link being dragged around the page). */
export function dragHasFiles(dt: DataTransfer | null): boolean {
  return !!dt && [...dt.types].includes('Files');
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  // readEntries answers in batches (100 in Chromium) until it answers an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

/** Walk what was dropped, each folder before its contents; `now` is the folders' mtime. */
export async function walkEntries(dropped: readonly (FileSystemEntry | File)[], now: number): Promise<PickedEntry[]> {
  const out: PickedEntry[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      out.push({ path, kind: 'dir', size: 0, mtime: now });
      for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child, path);
    } else if (entry.isFile) {
      const file = await fileOf(entry as FileSystemFileEntry);
      out.push({ path, kind: 'file', file, size: file.size, mtime: file.lastModified });
    }
  };
  for (const d of dropped) {
    if (isFile(d)) out.push({ path: d.name, kind: 'file', file: d, size: d.size, mtime: d.lastModified });
    else await walk(d, '');
  }
  return out;
}

function isFile(x: FileSystemEntry | File): x is File {
  return typeof (x as File).slice === 'function' && typeof (x as File).size === 'number';
}

/**
 * Files from an <input type="file">: with `webkitdirectory` each carries its path under the
 * chosen folder (webkitRelativePath), and the folders are made from those paths.
 */
export function entriesFromFiles(files: readonly File[], now: number): PickedEntry[] {
  const out: PickedEntry[] = [];
  const dirs = new Set<string>();
  for (const file of files) {
    const path = file.webkitRelativePath || file.name;
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        out.push({ path: dir, kind: 'dir', size: 0, mtime: now });
      }
    }
    out.push({ path, kind: 'file', file, size: file.size, mtime: file.lastModified });
  }
  return out;
}

export function resolveDrop(payload: DropPayload, now: number): Promise<PickedEntry[]> {
  return walkEntries(payload, now);
}

/** The entries as the engine takes them, each file registered for on-demand reads. */
export function toStreamed(picked: readonly PickedEntry[], register: (f: File) => number): StreamedEntry[] {
  return picked.map((p) => ({
    path: p.path,
    kind: p.kind,
    size: p.size,
    mtime: p.mtime,
    ...(p.file ? { handle: register(p.file) } : {}),
  }));
}
