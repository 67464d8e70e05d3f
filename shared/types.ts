/** Plain data types shared by the engine, its shells and the UI. */

export type EntryKind = 'file' | 'dir' | 'link' | 'other';

/** One entry of a remote folder listing. */
export interface RemoteEntry {
  name: string;
  kind: EntryKind;
  size: number;
  /** Modification time, milliseconds since the epoch. */
  mtime: number;
}

/** What to do when a file with the same name exists and differs. */
export type ConflictPolicy = 'rename' | 'overwrite' | 'skip';

export type Direction = 'upload' | 'download';
