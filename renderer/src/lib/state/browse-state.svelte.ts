/**
 * Browsing one peer's shared folder: where we are, what is there (sorted, folders first), what
 * is selected. Stale answers are dropped: a slow listing never overwrites a newer folder.
 */
import type { ErrorInfo } from '../../../../shared/errors.js';
import type { RemoteEntry } from '../../../../shared/types.js';
import type { Bridge } from '../bridge.js';
import { toInfo } from '../errors.js';
import { joinPath, parentPath } from '../paths.js';
import { clickSelect, EMPTY_SELECTION, keySelect, type Modifiers, type Selection } from '../selection.js';
import { sortEntries, type SortDir, type SortKey } from '../sort.js';

export class BrowseState {
  readonly #bridge: Bridge;
  #peerId = $state<string | null>(null);
  #path = $state('');
  #entries = $state.raw<RemoteEntry[]>([]);
  #loading = $state(false);
  #error = $state.raw<ErrorInfo | null>(null);
  #sortKey = $state<SortKey>('name');
  #sortDir = $state<SortDir>('asc');
  #selection = $state.raw<Selection>(EMPTY_SELECTION);
  #sorted = $derived(sortEntries(this.#entries, this.#sortKey, this.#sortDir));
  #names = $derived(this.#sorted.map((e) => e.name));
  #request = 0;

  constructor(bridge: Bridge) {
    this.#bridge = bridge;
  }

  get peerId(): string | null {
    return this.#peerId;
  }
  get path(): string {
    return this.#path;
  }
  get entries(): RemoteEntry[] {
    return this.#sorted;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get error(): ErrorInfo | null {
    return this.#error;
  }
  get sortKey(): SortKey {
    return this.#sortKey;
  }
  get sortDir(): SortDir {
    return this.#sortDir;
  }
  get selection(): Selection {
    return this.#selection;
  }
  get selected(): ReadonlySet<string> {
    return this.#selection.selected;
  }
  /** Selected entries as paths from the top of the share, for transfers.download. */
  get selectedPaths(): string[] {
    return this.#names.filter((n) => this.#selection.selected.has(n)).map((n) => joinPath(this.#path, n));
  }

  async open(peerId: string, path: string): Promise<void> {
    const request = ++this.#request;
    const moved = peerId !== this.#peerId || path !== this.#path;
    this.#peerId = peerId;
    this.#path = path;
    this.#loading = true;
    this.#error = null;
    if (moved) {
      this.#entries = [];
      this.#selection = EMPTY_SELECTION;
    }
    try {
      const entries = await this.#bridge.request('browse.list', { peer: peerId, path });
      if (request !== this.#request) return;
      this.#entries = entries;
      this.#keepSelection();
    } catch (err) {
      if (request !== this.#request) return;
      this.#entries = [];
      this.#error = toInfo(err);
    } finally {
      if (request === this.#request) this.#loading = false;
    }
  }

  refresh(): Promise<void> {
    return this.#peerId ? this.open(this.#peerId, this.#path) : Promise.resolve();
  }

  up(): Promise<void> {
    return this.#peerId && this.#path ? this.open(this.#peerId, parentPath(this.#path)) : Promise.resolve();
  }

  /** Open a folder of the listing; false for a file. */
  enter(entry: RemoteEntry): boolean {
    if (entry.kind !== 'dir' || !this.#peerId) return false;
    void this.open(this.#peerId, joinPath(this.#path, entry.name));
    return true;
  }

  /** Stop browsing (the peer was removed). */
  close(): void {
    this.#request++;
    this.#peerId = null;
    this.#path = '';
    this.#entries = [];
    this.#loading = false;
    this.#error = null;
    this.#selection = EMPTY_SELECTION;
  }

  sortBy(key: SortKey): void {
    const focusName = this.#names[this.#selection.focus];
    if (key === this.#sortKey) this.#sortDir = this.#sortDir === 'asc' ? 'desc' : 'asc';
    else {
      this.#sortKey = key;
      this.#sortDir = 'asc';
    }
    // Indexes follow the new order; the names selected stay selected.
    const focus = focusName === undefined ? -1 : this.#names.indexOf(focusName);
    this.#selection = { selected: this.#selection.selected, anchor: focus, focus };
  }

  click(index: number, mods: Modifiers): void {
    this.#selection = clickSelect(this.#selection, this.#names, index, mods);
  }

  /** A key on the list; false when it is not a selection key. */
  key(key: string, mods: Modifiers, page: number): boolean {
    const next = keySelect(this.#selection, this.#names, key, mods, page);
    if (!next) return false;
    this.#selection = next;
    return true;
  }

  #keepSelection(): void {
    const names = new Set(this.#names);
    const selected = new Set([...this.#selection.selected].filter((n) => names.has(n)));
    const focus = Math.min(this.#selection.focus, this.#names.length - 1);
    this.#selection = { selected, anchor: Math.min(this.#selection.anchor, focus), focus };
  }
}
