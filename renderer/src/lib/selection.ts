/**
 * Row selection in a list, as file managers do it: click selects one, Ctrl/Cmd-click toggles,
 * Shift-click selects the range from the anchor; arrows move the focus (Shift extends, Ctrl
 * moves the focus alone), Space toggles, Ctrl+A selects all. Rows are named (names are unique
 * within a folder); indexes are positions in the list as shown.
 */
export interface Selection {
  selected: ReadonlySet<string>;
  /** Where a Shift range starts. */
  anchor: number;
  /** The row the keyboard is on; -1 for none. */
  focus: number;
}

export interface Modifiers {
  ctrl: boolean;
  shift: boolean;
}

export const EMPTY_SELECTION: Selection = { selected: new Set(), anchor: -1, focus: -1 };

function range(names: readonly string[], a: number, b: number): Set<string> {
  const out = new Set<string>();
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  for (let i = Math.max(0, lo); i <= hi && i < names.length; i++) out.add(names[i]!);
  return out;
}

export function clickSelect(sel: Selection, names: readonly string[], index: number, mods: Modifiers): Selection {
  const name = names[index];
  if (name === undefined) return sel;
  if (mods.shift && sel.anchor >= 0) {
    const span = range(names, sel.anchor, index);
    const selected = mods.ctrl ? new Set([...sel.selected, ...span]) : span;
    return { selected, anchor: sel.anchor, focus: index };
  }
  if (mods.ctrl) {
    const selected = new Set(sel.selected);
    if (selected.has(name)) selected.delete(name);
    else selected.add(name);
    return { selected, anchor: index, focus: index };
  }
  return { selected: new Set([name]), anchor: index, focus: index };
}

const MOVES: Record<string, (focus: number, count: number, page: number) => number> = {
  ArrowDown: (f) => f + 1,
  ArrowUp: (f) => f - 1,
  Home: () => 0,
  End: (_f, n) => n - 1,
  PageDown: (f, _n, p) => f + p,
  PageUp: (f, _n, p) => f - p,
};

/** The selection after a key, or null when the key is not a selection key. */
export function keySelect(
  sel: Selection,
  names: readonly string[],
  key: string,
  mods: Modifiers,
  page: number,
): Selection | null {
  const n = names.length;
  if (n === 0) return null;
  if (mods.ctrl && (key === 'a' || key === 'A'))
    return { selected: new Set(names), anchor: sel.anchor, focus: sel.focus };
  if (key === ' ') {
    const at = sel.focus >= 0 ? sel.focus : 0;
    return clickSelect(sel, names, at, { ctrl: true, shift: false });
  }
  const move = MOVES[key];
  if (!move) return null;
  const from = sel.focus >= 0 ? sel.focus : key === 'ArrowUp' ? n : -1;
  const focus = Math.max(0, Math.min(n - 1, move(from, n, Math.max(1, page))));
  if (mods.shift) {
    const anchor = sel.anchor >= 0 ? sel.anchor : focus;
    return { selected: range(names, anchor, focus), anchor, focus };
  }
  if (mods.ctrl) return { ...sel, focus };
  return { selected: new Set([names[focus]!]), anchor: focus, focus };
}
