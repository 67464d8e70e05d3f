/** Transfer items: what they say and which buttons each state offers. */
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { TransferState } from '../../../shared/events.js';
import TransferItem from '../../../renderer/src/components/TransferItem.svelte';
import TransferList from '../../../renderer/src/components/TransferList.svelte';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { startedBridge, transfer } from './fixtures.js';

const buttons = () => ['pause', 'resume', 'cancel', 'retry'].filter((a) => screen.queryByTestId(`transfer-${a}`));

describe('TransferItem', () => {
  const cases: [TransferState, boolean, string[]][] = [
    ['queued', false, ['pause', 'cancel']],
    ['running', false, ['pause', 'cancel']],
    ['verifying', false, ['pause', 'cancel']],
    ['paused', false, ['resume', 'cancel']],
    ['failed', false, ['retry']],
    ['cancelled', false, ['retry']],
    ['done', false, []],
    ['running', true, ['cancel']],
    ['done', true, []],
  ];
  it.each(cases)('%s (incoming: %s) offers %j', (state, incoming, expected) => {
    render(TransferItem, {
      props: { t: transfer({ state, incoming }), live: false, onAction: () => undefined, onSelect: () => undefined },
    });
    expect(buttons()).toEqual(expected);
    expect(screen.getByTestId('transfer-item').dataset.state).toBe(state);
  });

  it('calls back with the button pressed', async () => {
    const onAction = vi.fn();
    render(TransferItem, {
      props: { t: transfer({ state: 'paused' }), live: false, onAction, onSelect: () => undefined },
    });
    await fireEvent.click(screen.getByTestId('transfer-resume'));
    await fireEvent.click(screen.getByTestId('transfer-cancel'));
    expect(onAction.mock.calls).toEqual([['resume'], ['cancel']]);
  });

  it('shows progress, bytes, speed and time left, which way and with whom', () => {
    render(TransferItem, {
      props: {
        t: transfer({
          bytesDone: 512 * 1024,
          bytesTotal: 2 * 1024 * 1024,
          bytesPerSecond: 1024 * 1024,
          etaSeconds: 90,
          label: 'big.iso',
        }),
        live: true,
        onAction: () => undefined,
        onSelect: () => undefined,
      },
    });
    const item = screen.getByTestId('transfer-item');
    expect(item.dataset).toMatchObject({ label: 'big.iso', direction: 'upload', state: 'running' });
    const bar = screen.getByTestId('transfer-progress');
    expect(bar.getAttribute('role')).toBe('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(screen.getByTestId('transfer-bytes').textContent).toContain('512 KiB / 2.0 MiB');
    expect(screen.getByTestId('transfer-speed').textContent).toBe('1.0 MiB/s · 01:30 left');
    expect(item.textContent).toContain('↑');
    expect(item.textContent).toContain('Sending to Bravo');
  });

  it('marks uploads arriving from a peer as incoming, received here', () => {
    render(TransferItem, {
      props: {
        t: transfer({ incoming: true, direction: 'upload' }),
        live: false,
        onAction: () => undefined,
        onSelect: () => undefined,
      },
    });
    expect(screen.getByTestId('transfer-incoming')).toBeTruthy();
    expect(screen.getByTestId('transfer-item').textContent).toContain('↓');
    expect(screen.getByTestId('transfer-item').textContent).toContain('Receiving from Bravo');
  });

  it('says why a transfer failed, in words with a title', () => {
    const error = {
      code: 'FERRY_ERR_DISK_FULL' as const,
      message: 'The disk holding /home/me/Downloads is full: free some space, then retry',
    };
    render(TransferItem, {
      props: {
        t: transfer({ state: 'failed', error, failures: [{ path: 'a.bin', error }] }),
        live: false,
        onAction: () => undefined,
        onSelect: () => undefined,
      },
    });
    const why = screen.getByTestId('transfer-error');
    expect(why.textContent).toContain('Disk full');
    expect(why.textContent).toContain(error.message);
    expect(screen.getByText('1 file failed')).toBeTruthy();
  });

  it('is 100% when done', () => {
    render(TransferItem, {
      props: {
        t: transfer({ state: 'done', bytesDone: 0, bytesTotal: 0 }),
        live: false,
        onAction: () => undefined,
        onSelect: () => undefined,
      },
    });
    expect(screen.getByTestId('transfer-progress').getAttribute('aria-valuenow')).toBe('100');
  });
});

describe('TransferList', () => {
  it('lists transfers as they arrive, newest first, runs their buttons and clears the finished ones', async () => {
    let list = [transfer({ id: 'old', state: 'done', label: 'old', createdAt: 1 })];
    const bridge = startedBridge('web', {
      'transfers.cancel': () => null,
      'transfers.clear': () => {
        list = list.filter((t) => t.state !== 'done');
        return null;
      },
      'transfers.list': () => list,
    });
    const app = new AppState(bridge);
    await app.start();
    render(TransferList, { props: { app } });
    const incoming = transfer({ id: 'in', incoming: true, label: 'from-peer', createdAt: 2 });
    list = [...list, incoming];
    bridge.emit('transfer', incoming);
    await Promise.resolve();
    const labels = () => screen.getAllByTestId('transfer-item').map((el) => el.dataset.label);
    expect(labels()).toEqual(['from-peer', 'old']);
    await fireEvent.click(screen.getAllByTestId('transfer-cancel')[0]!);
    expect(bridge.callsOf('transfers.cancel')).toEqual([{ id: 'in' }]);
    await fireEvent.click(screen.getByTestId('clear-finished'));
    await vi.waitFor(() => expect(labels()).toEqual(['from-peer']));
    expect(screen.getByTestId<HTMLButtonElement>('clear-finished').disabled).toBe(true);
  });
});
