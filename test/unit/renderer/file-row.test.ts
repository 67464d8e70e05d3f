/**
 * One row of the file grid. Regression: the icons were emoji (📁 📄 🔗), empty boxes where no
 * emoji font is installed; they are inline SVG in currentColor now. And the date is one line
 * that may end in "…", with the whole of it in the title.
 */
import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import FileRow from '../../../renderer/src/components/FileRow.svelte';
import type { RemoteEntry } from '../../../shared/types.js';
import { entry } from './fixtures.js';

const EMOJI = /\p{Extended_Pictographic}/u;

function row(e: RemoteEntry) {
  render(FileRow, {
    props: {
      entry: e,
      index: 0,
      id: `r-${e.name}`,
      selected: false,
      focused: false,
      onClick: () => {},
      onOpen: () => {},
    },
  });
  return screen.getAllByTestId('remote-row').find((r) => r.dataset.name === e.name)!;
}

describe('FileRow', () => {
  it('draws a folder, file or link icon as inline SVG that takes the text colour, never an emoji', () => {
    for (const kind of ['dir', 'file', 'link', 'other'] as const) {
      const r = row(entry(`x-${kind}`, kind, 1024));
      const svg = r.querySelector('svg');
      expect(svg, kind).not.toBeNull();
      expect(svg!.getAttribute('data-icon')).toBe(kind);
      expect(svg!.getAttribute('stroke')).toBe('currentColor');
      expect(svg!.getAttribute('aria-hidden')).toBe('true');
      expect(r.textContent, kind).not.toMatch(EMOJI);
    }
    const dir = row(entry('docs', 'dir'));
    const link = row(entry('latest', 'link'));
    const file = row(entry('a.txt', 'file'));
    // Each kind has its own picture.
    const drawn = (r: HTMLElement) => [...r.querySelectorAll('svg path')].map((p) => p.getAttribute('d')).join(' ');
    expect(new Set([drawn(dir), drawn(link), drawn(file)]).size).toBe(3);
  });

  it('shows the size (none for a folder) and the date, the whole date in the title', () => {
    const mtime = Date.UTC(2024, 4, 1, 10, 52);
    const r = row(entry('big.bin', 'file', 3 * 1024 * 1024, mtime));
    const size = r.querySelector('.size')!;
    const date = r.querySelector('.mtime')!;
    expect(size.textContent).toBe('3.0 MiB');
    expect(date.textContent).toBe(
      new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(mtime),
    );
    expect(date.getAttribute('title')).toBe(date.textContent);
    const dir = row(entry('photos', 'dir', 4096, mtime));
    expect(dir.querySelector('.size')!.textContent).toBe('');
  });
});
