/** Sorting a remote listing: folders first whatever the direction, then by the chosen column. */
import type { RemoteEntry } from '../../../shared/types.js';

export type SortKey = 'name' | 'size' | 'mtime';
export type SortDir = 'asc' | 'desc';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function sortEntries(entries: readonly RemoteEntry[], key: SortKey, dir: SortDir): RemoteEntry[] {
  const sign = dir === 'asc' ? 1 : -1;
  const byName = (a: RemoteEntry, b: RemoteEntry) =>
    collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...entries].sort((a, b) => {
    const folders = Number(b.kind === 'dir') - Number(a.kind === 'dir');
    if (folders !== 0) return folders;
    const primary = key === 'name' ? byName(a, b) : key === 'size' ? a.size - b.size : a.mtime - b.mtime;
    // Ties keep a stable, readable order: by name, ascending.
    return primary !== 0 ? sign * primary : byName(a, b);
  });
}

/** aria-sort for a column header. */
export function ariaSort(column: SortKey, key: SortKey, dir: SortDir): 'ascending' | 'descending' | 'none' {
  if (column !== key) return 'none';
  return dir === 'asc' ? 'ascending' : 'descending';
}
