/**
 * Pairing two peers the way their users do, through both UIs: A adds B by its address and
 * clicks Pair, both screens show the same code, B approves. Specs about something else start
 * with this, as a person would before anything can be browsed or sent.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import type { Pair } from './pair.js';
import { peerItem, shownText } from './ui.js';

/** This device's full ID, as its panel shows it (the tooltip of the short one). */
export async function deviceIdOf(page: Page): Promise<string> {
  const id = page.getByTestId('device-id');
  await expect(id).toHaveAttribute('data-device-id', /^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/);
  return (await id.getAttribute('data-device-id'))!;
}

/** The entry of the device with this ID in a peer list. */
export function peerByDeviceId(page: Page, deviceId: string): Locator {
  return page.locator(`[data-testid="peer-item"][data-device-id="${deviceId}"]`);
}

/** Add a peer by the address its Ferry printed, and wait until it is online. */
export async function addPeer(page: Page, address: string): Promise<Locator> {
  await page.getByTestId('peer-add-input').fill(address);
  await page.getByTestId('peer-add-input').press('Enter');
  const item = peerItem(page, address);
  await expect(item).toHaveAttribute('data-online', 'true');
  return item;
}

/** The code a pairing dialog shows, digits only, once it shows one. */
export async function pairingCode(page: Page): Promise<string> {
  const code = page.getByTestId('pairing-code');
  await expect(code).toHaveText(/^\s*\d{3}\s*\d{3}\s*$/);
  return (await shownText(code)).replace(/\s/g, '');
}

/**
 * A (already listing B) pairs with B through both UIs and checks what a person checks: the
 * same code on both screens, each showing the other's device ID. With `autoAccept`, B's user
 * then lets A send without asking (as the existing transfer tests need).
 */
export async function pairThroughUi(pair: Pair, opts: { autoAccept?: boolean } = {}): Promise<{ code: string }> {
  const { page, pageB, b } = pair;
  const [idA, idB] = [await deviceIdOf(page), await deviceIdOf(pageB)];
  const onA = peerItem(page, b.address);
  await expect(onA.getByTestId('peer-trust')).toHaveAttribute('data-trusted', 'false');
  await onA.getByTestId('peer-pair').click();

  const dialogA = page.getByTestId('pairing-dialog');
  const dialogB = pageB.getByTestId('pairing-dialog');
  await expect(dialogA).toHaveAttribute('data-direction', 'outgoing');
  await expect(dialogB).toHaveAttribute('data-direction', 'incoming');
  const code = await pairingCode(page);
  expect(code).toMatch(/^\d{6}$/);
  expect(await pairingCode(pageB), 'both screens show the same code').toBe(code);
  await expect(dialogA.getByTestId('pairing-peer-id')).toHaveText(idB);
  await expect(dialogB.getByTestId('pairing-peer-id')).toHaveText(idA);

  await dialogB.getByTestId('pairing-approve').click();
  await expect(dialogA).toHaveCount(0);
  await expect(dialogB).toHaveCount(0);
  await expect(onA.getByTestId('peer-trust')).toHaveAttribute('data-trusted', 'true');
  const onB = peerByDeviceId(pageB, idA);
  await expect(onB.getByTestId('peer-trust')).toHaveAttribute('data-trusted', 'true');
  if (opts.autoAccept) {
    await onB.getByTestId('peer-permissions-toggle').click();
    await onB.getByTestId('perm-auto').check();
    await expect(onB.getByTestId('perm-auto')).toBeChecked();
    await onB.getByTestId('peer-permissions-toggle').click();
  }
  return { code };
}
