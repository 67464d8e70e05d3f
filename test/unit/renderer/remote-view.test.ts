/** The remote folder view: sorting, the virtual list, keyboard, download, drops. */
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { RemoteEntry } from '../../../shared/types.js';
import RemoteView from '../../../renderer/src/components/RemoteView.svelte';
import PeerList from '../../../renderer/src/components/PeerList.svelte';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { dataTransfer, dirEntry, file, fileEntry } from './drag.js';
import { entry, peer, startedBridge, transfer } from './fixtures.js';

async function browsing(listing: Record<string, RemoteEntry[]>, kind: 'web' | 'electron' = 'web') {
  const bridge = startedBridge(
    kind,
    {
      'browse.list': ({ path }) => listing[path] ?? [],
      'transfers.download': () => transfer({ id: 'd1', direction: 'download' }),
      'transfers.uploadStreamed': () => transfer({ id: 'u1' }),
      'transfers.upload': () => transfer({ id: 'u2' }),
    },
    { peers: [peer()] },
  );
  const app = new AppState(bridge);
  await app.start();
  app.selectPeer('p1');
  render(RemoteView, { props: { app } });
  await waitFor(() => expect(app.browse.loading).toBe(false));
  return { app, bridge };
}

const rowNames = () => screen.queryAllByTestId('remote-row').map((r) => r.dataset.name);

describe('RemoteView', () => {
  it('lists folders first, sorted by name, and sorts by a column on its header (aria-sort)', async () => {
    await browsing({
      '': [
        entry('b.txt', 'file', 30, 3),
        entry('zeta', 'dir', 0, 1),
        entry('A.txt', 'file', 10, 2),
        entry('alpha', 'dir', 0, 9),
        entry('c10.txt', 'file', 20, 1),
        entry('c9.txt', 'file', 5, 5),
      ],
    });
    expect(rowNames()).toEqual(['alpha', 'zeta', 'A.txt', 'b.txt', 'c9.txt', 'c10.txt']);
    const header = (name: string) => screen.getByTestId(`sort-${name}`).parentElement!;
    expect(header('name').getAttribute('aria-sort')).toBe('ascending');
    await fireEvent.click(screen.getByTestId('sort-size'));
    expect(header('size').getAttribute('aria-sort')).toBe('ascending');
    expect(header('name').getAttribute('aria-sort')).toBe('none');
    expect(rowNames()).toEqual(['alpha', 'zeta', 'c9.txt', 'A.txt', 'c10.txt', 'b.txt']);
    await fireEvent.click(screen.getByTestId('sort-size'));
    expect(header('size').getAttribute('aria-sort')).toBe('descending');
    expect(rowNames()).toEqual(['alpha', 'zeta', 'b.txt', 'c10.txt', 'A.txt', 'c9.txt']);
    await fireEvent.click(screen.getByTestId('sort-mtime'));
    expect(rowNames()).toEqual(['zeta', 'alpha', 'c10.txt', 'A.txt', 'b.txt', 'c9.txt']);
    const row = screen.getAllByTestId('remote-row')[0]!;
    expect(row.dataset.kind).toBe('dir');
  });

  it('renders only the rows in view of a 10,000-entry folder, and the ones scrolled to', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => entry(`file-${String(i).padStart(5, '0')}.bin`, 'file', i));
    await browsing({ '': many });
    const table = screen.getByTestId('remote-table');
    expect(table.getAttribute('aria-rowcount')).toBe('10001');
    const first = rowNames();
    expect(first.length).toBeGreaterThan(10);
    expect(first.length).toBeLessThan(40);
    expect(first[0]).toBe('file-00000.bin');
    const scroller = table.querySelector('.scroller')!;
    scroller.scrollTop = 5000 * 28;
    await fireEvent.scroll(scroller);
    const later = rowNames();
    expect(later.length).toBeLessThan(40);
    expect(later).toContain('file-05000.bin');
    expect(later).not.toContain('file-00000.bin');
    const at = screen.getAllByTestId('remote-row').find((r) => r.dataset.name === 'file-05000.bin')!;
    expect(at.getAttribute('aria-rowindex')).toBe('5002');
  });

  it('opens a folder by double-click and by Enter, goes up by Backspace, and follows with the breadcrumbs', async () => {
    const { bridge } = await browsing({
      '': [entry('photos', 'dir')],
      photos: [entry('2023', 'dir'), entry('beach.jpg')],
      'photos/2023': [],
    });
    await fireEvent.dblClick(screen.getAllByTestId('remote-row')[0]!);
    await waitFor(() => expect(screen.getByTestId('remote-view').dataset.path).toBe('photos'));
    expect(within(screen.getByTestId('breadcrumbs')).getByText('photos')).toBeTruthy();
    await waitFor(() => expect(rowNames()).toEqual(['2023', 'beach.jpg']));
    const grid = screen.getByTestId('remote-table');
    grid.focus();
    await fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(screen.getAllByTestId('remote-row')[0]!.getAttribute('aria-selected')).toBe('true');
    await fireEvent.keyDown(grid, { key: 'Enter' });
    await waitFor(() => expect(screen.getByTestId('remote-view').dataset.path).toBe('photos/2023'));
    expect(screen.getByTestId('remote-empty')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('up-button'));
    await waitFor(() => expect(screen.getByTestId('remote-view').dataset.path).toBe('photos'));
    await fireEvent.keyDown(screen.getByTestId('remote-table'), { key: 'Backspace' });
    await waitFor(() => expect(screen.getByTestId('remote-view').dataset.path).toBe(''));
    expect(bridge.callsOf('browse.list')).toEqual([
      { peer: 'p1', path: '' },
      { peer: 'p1', path: 'photos' },
      { peer: 'p1', path: 'photos/2023' },
      { peer: 'p1', path: 'photos' },
      { peer: 'p1', path: '' },
    ]);
  });

  it('downloads the rows selected by click, Ctrl-click and Shift-click', async () => {
    const { bridge } = await browsing({ '': [entry('d', 'dir'), entry('a'), entry('b'), entry('c'), entry('e')] });
    const download = screen.getByTestId<HTMLButtonElement>('download-button');
    expect(download.disabled).toBe(true);
    const rows = () => screen.getAllByTestId('remote-row');
    await fireEvent.click(rows()[1]!); // a
    await fireEvent.click(rows()[3]!, { shiftKey: true }); // a..c
    await fireEvent.click(rows()[0]!, { ctrlKey: true }); // + d
    await fireEvent.click(rows()[2]!, { ctrlKey: true }); // - b
    expect(
      rows()
        .filter((r) => r.getAttribute('aria-selected') === 'true')
        .map((r) => r.dataset.name),
    ).toEqual(['d', 'a', 'c']);
    expect(download.disabled).toBe(false);
    await fireEvent.click(download);
    expect(bridge.callsOf('transfers.download')).toEqual([{ peer: 'p1', paths: ['d', 'a', 'c'] }]);
  });

  it("shows the engine's error in words when the folder cannot be listed", async () => {
    const bridge = startedBridge(
      'web',
      {
        'browse.list': () =>
          Promise.reject(
            Object.assign(new Error('Nothing answers at 127.0.0.1:7200'), { code: 'FERRY_ERR_UNREACHABLE' }),
          ),
      },
      { peers: [peer()] },
    );
    const app = new AppState(bridge);
    await app.start();
    app.selectPeer('p1');
    render(RemoteView, { props: { app } });
    const problem = await screen.findByTestId('remote-error');
    expect(problem.textContent).toContain('Peer not reachable');
    expect(problem.textContent).toContain('Nothing answers at 127.0.0.1:7200');
  });

  it('lights up while files are dragged over it, through nested elements, and sends the drop into the open folder', async () => {
    const { bridge } = await browsing({ '': [entry('inbox', 'dir')], inbox: [entry('old.txt')] });
    await fireEvent.dblClick(screen.getAllByTestId('remote-row')[0]!);
    await waitFor(() => expect(rowNames()).toEqual(['old.txt']));
    const view = screen.getByTestId('remote-view');
    const row = screen.getAllByTestId('remote-row')[0]!;
    const a = file('a.txt', 5, 1000);
    const b = file('b.bin', 7, 2000);
    const dropped = [fileEntry(a), dirEntry('pics', [fileEntry(b), dirEntry('empty', [])])];
    const dt = dataTransfer(dropped);

    expect(view.classList.contains('drop-active')).toBe(false);
    await fireEvent.dragEnter(view, { dataTransfer: dt });
    expect(view.classList.contains('drop-active')).toBe(true);
    expect(view.getAttribute('aria-dropeffect')).toBe('copy');
    // Into a child and back out of it: still over the target.
    await fireEvent.dragEnter(row, { dataTransfer: dt });
    await fireEvent.dragLeave(row, { dataTransfer: dt });
    expect(view.classList.contains('drop-active')).toBe(true);
    const over = await fireEvent.dragOver(view, { dataTransfer: dt });
    expect(over, 'dragover is cancelled, so the browser allows the drop').toBe(false);
    await fireEvent.dragLeave(view, { dataTransfer: dt });
    expect(view.classList.contains('drop-active')).toBe(false);
    expect(view.hasAttribute('aria-dropeffect')).toBe(false);

    await fireEvent.dragEnter(view, { dataTransfer: dt });
    await fireEvent.drop(view, { dataTransfer: dt });
    expect(view.classList.contains('drop-active')).toBe(false);
    await waitFor(() => expect(bridge.callsOf('transfers.uploadStreamed')).toHaveLength(1));
    const [arg] = bridge.callsOf('transfers.uploadStreamed') as {
      peer: string;
      to: string;
      entries: { path: string; kind: string; size: number; mtime: number; handle?: number }[];
    }[];
    expect(arg!.peer).toBe('p1');
    expect(arg!.to).toBe('inbox');
    const entries = arg!.entries.map(({ handle, ...rest }) => ({
      ...rest,
      file: handle === undefined ? undefined : bridge.files.get(handle)?.name,
    }));
    expect(entries).toEqual([
      { path: 'a.txt', kind: 'file', size: 5, mtime: 1000, file: 'a.txt' },
      { path: 'pics', kind: 'dir', size: 0, mtime: expect.any(Number) as number, file: undefined },
      { path: 'pics/b.bin', kind: 'file', size: 7, mtime: 2000, file: 'b.bin' },
      { path: 'pics/empty', kind: 'dir', size: 0, mtime: expect.any(Number) as number, file: undefined },
    ]);
  });

  it('in Electron, sends dropped files by their paths', async () => {
    const { bridge } = await browsing({ '': [] }, 'electron');
    const view = screen.getByTestId('remote-view');
    const dt = dataTransfer([file('report.pdf', 3), file('notes', 1)]);
    await fireEvent.dragEnter(view, { dataTransfer: dt });
    await fireEvent.drop(view, { dataTransfer: dt });
    await waitFor(() =>
      expect(bridge.callsOf('transfers.upload')).toEqual([
        { peer: 'p1', paths: ['/home/me/report.pdf', '/home/me/notes'], to: '' },
      ]),
    );
  });

  it('ignores drags that carry no files (text dragged around the page)', async () => {
    await browsing({ '': [] });
    const view = screen.getByTestId('remote-view');
    const text = { types: ['text/plain'], files: [], items: [] } as unknown as DataTransfer;
    const over = await fireEvent.dragEnter(view, { dataTransfer: text });
    expect(over).toBe(true);
    expect(view.classList.contains('drop-active')).toBe(false);
  });
});

describe('PeerList drops', () => {
  it('sends files dropped on a peer to the top of its share, lighting the peer up meanwhile', async () => {
    const bridge = startedBridge(
      'web',
      { 'transfers.uploadStreamed': () => transfer({ id: 'u9' }) },
      { peers: [peer(), peer({ id: 'p2', address: '10.0.0.2:7117', name: 'Charlie' })] },
    );
    const app = new AppState(bridge);
    await app.start();
    render(PeerList, { props: { app } });
    const item = screen.getAllByTestId('peer-item').find((el) => el.dataset.peerAddress === '10.0.0.2:7117')!;
    const dt = dataTransfer([file('x.bin', 9)]);
    await fireEvent.dragEnter(item, { dataTransfer: dt });
    expect(item.classList.contains('drop-active')).toBe(true);
    expect(item.getAttribute('aria-dropeffect')).toBe('copy');
    await fireEvent.drop(item, { dataTransfer: dt });
    expect(item.classList.contains('drop-active')).toBe(false);
    await waitFor(() => expect(bridge.callsOf('transfers.uploadStreamed')).toHaveLength(1));
    expect(bridge.callsOf('transfers.uploadStreamed')[0]).toMatchObject({
      peer: 'p2',
      to: '',
      entries: [{ path: 'x.bin', kind: 'file', size: 9, handle: 1 }],
    });
    await waitFor(() => expect(app.transfer('u9')).toBeDefined());
  });
});
