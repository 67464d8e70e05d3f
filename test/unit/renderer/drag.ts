/**
 * jsdom has no DataTransfer and no entries API. These stand-ins have the shape Chromium gives a
 * drop from the desktop: `types` with "Files", `files`, and `items` whose webkitGetAsEntry()
 * walks folders, readEntries answering in batches and then an empty batch.
 */
export interface FakeEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  file?: (ok: (f: File) => void, fail: (e: Error) => void) => void;
  createReader?: () => { readEntries: (ok: (e: FakeEntry[]) => void, fail: (e: Error) => void) => void };
}

export function fileEntry(file: File): FakeEntry {
  return { name: file.name, isFile: true, isDirectory: false, file: (ok) => setTimeout(() => ok(file), 0) };
}

export function dirEntry(name: string, children: FakeEntry[], batch = 2): FakeEntry {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      let at = 0;
      return {
        readEntries: (ok) =>
          setTimeout(() => {
            ok(children.slice(at, at + batch));
            at += batch;
          }, 0),
      };
    },
  };
}

/** A DataTransfer-like object of a drop: entries where given, plain files otherwise. */
export function dataTransfer(dropped: (FakeEntry | File)[]): DataTransfer {
  const files = dropped.filter((d): d is File => d instanceof File);
  const items = dropped.map((d) => ({
    kind: 'file',
    type: '',
    webkitGetAsEntry: () => (d instanceof File ? null : d),
    getAsFile: () => (d instanceof File ? d : null),
  }));
  return { types: ['Files'], files, items, dropEffect: 'none', effectAllowed: 'all' } as unknown as DataTransfer;
}

export const file = (name: string, size: number, lastModified = 1_714_554_754_567) =>
  new File([new Uint8Array(size)], name, { lastModified });
