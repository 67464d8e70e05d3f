/** This device's panel: name, address, folders (typed in a browser, picked in Electron), switches. */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import DevicePanel from '../../../renderer/src/components/DevicePanel.svelte';
import { AppState } from '../../../renderer/src/lib/state/app-state.svelte.js';
import { fail } from './fake-bridge.js';
import { device, startedBridge } from './fixtures.js';

async function panel(kind: 'web' | 'electron', over: Parameters<typeof startedBridge>[1] = {}) {
  const bridge = startedBridge(kind, {
    'device.update': (patch) =>
      patch.sharedFolder && !patch.sharedFolder.startsWith('/')
        ? fail('FERRY_ERR_BAD_ARGUMENT', `Choose a full folder path, not "${patch.sharedFolder}"`)
        : device(patch),
    ...over,
  });
  const app = new AppState(bridge);
  await app.start();
  render(DevicePanel, { props: { app } });
  return { app, bridge };
}

afterEach(() => {
  Reflect.deleteProperty(navigator, 'clipboard');
});

describe('DevicePanel', () => {
  it('shows the name, the address with a Copy button, and both folders', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await panel('web');
    expect(screen.getByTestId('device-name').textContent).toBe('Alpha');
    expect(screen.getByTestId('device-address').textContent).toBe('127.0.0.1:7117');
    expect(screen.getByTestId('shared-folder').textContent).toBe('/home/me/Shared');
    expect(screen.getByTestId('download-folder').textContent).toBe('/home/me/Downloads');
    // A long path may be cut short on screen; the whole of it is in the tooltip.
    expect(screen.getByTestId('shared-folder').getAttribute('title')).toBe('/home/me/Shared');
    expect(screen.getByTestId('download-folder').getAttribute('title')).toBe('/home/me/Downloads');
    await fireEvent.click(screen.getByTestId('copy-address'));
    expect(writeText).toHaveBeenCalledWith('127.0.0.1:7117');
    await waitFor(() => expect(screen.getByText('Copied')).toBeTruthy());
  });

  it('in a browser, takes a typed folder path; a refused one stays in the field with the reason shown', async () => {
    const { app, bridge } = await panel('web');
    await fireEvent.click(screen.getByRole('button', { name: 'Change shared folder' }));
    const input = screen.getByTestId<HTMLInputElement>('shared-folder-input');
    expect(input.value).toBe('/home/me/Shared');
    await fireEvent.input(input, { target: { value: 'Shared' } });
    await fireEvent.submit(input.form!);
    await waitFor(() => expect(app.error?.code).toBe('FERRY_ERR_BAD_ARGUMENT'));
    expect(screen.getByTestId('shared-folder-input')).toBeTruthy();
    await fireEvent.input(input, { target: { value: '/srv/share' } });
    await fireEvent.submit(input.form!);
    await waitFor(() => expect(screen.getByTestId('shared-folder').textContent).toBe('/srv/share'));
    expect(bridge.callsOf('device.update')).toEqual([{ sharedFolder: 'Shared' }, { sharedFolder: '/srv/share' }]);
    // Escape leaves without saving.
    await fireEvent.click(screen.getByRole('button', { name: 'Change download folder' }));
    await fireEvent.keyDown(screen.getByTestId('download-folder-input'), { key: 'Escape' });
    expect(screen.queryByTestId('download-folder-input')).toBeNull();
    expect(bridge.callsOf('device.update')).toHaveLength(2);
  });

  it('in Electron, picks folders with the system dialog', async () => {
    const { bridge } = await panel('electron', { 'dialog.chooseFolder': () => '/media/usb' });
    expect(screen.queryByTestId('shared-folder-input')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose the download folder' }));
    await waitFor(() => expect(screen.getByTestId('download-folder').textContent).toBe('/media/usb'));
    expect(bridge.callsOf('dialog.chooseFolder')).toEqual([{ title: 'Choose where downloads go' }]);
    expect(bridge.callsOf('device.update')).toEqual([{ downloadFolder: '/media/usb' }]);
  });

  it('renames the device and flips read-only and sharing', async () => {
    const { bridge } = await panel('web');
    await fireEvent.click(screen.getByRole('button', { name: 'Rename device name' }));
    const input = screen.getByTestId('device-name-input');
    await fireEvent.input(input, { target: { value: 'Laptop' } });
    await fireEvent.submit((input as HTMLInputElement).form!);
    await waitFor(() => expect(screen.getByTestId('device-name').textContent).toBe('Laptop'));
    await fireEvent.click(screen.getByTestId('read-only-toggle'));
    await fireEvent.click(screen.getByTestId('serving-toggle'));
    expect(bridge.callsOf('device.update')).toEqual([{ name: 'Laptop' }, { readOnly: true }, { serving: false }]);
  });

  it('says why this device is not sharing', async () => {
    await panel('web', {
      'device.get': () =>
        device({ serving: false, error: { code: 'FERRY_ERR_PERMISSION', message: 'Ferry may not read /root/share' } }),
    });
    expect(screen.getByTestId('device-error').textContent).toContain('Permission denied');
    expect(screen.getByTestId('device-error').textContent).toContain('Ferry may not read /root/share');
  });
});
