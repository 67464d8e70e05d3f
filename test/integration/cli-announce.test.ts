/**
 * `ferry serve` announces itself on the local network (LAN discovery), so the desktop app lists
 * it without anyone typing an address; `--announce off` keeps it quiet.
 */
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Discovery, type DiscoveredPeer } from '../../electron/core/discovery.js';
import { PROTOCOL_VERSION } from '../../electron/core/protocol/constants.js';
import { ferryId, startServe } from '../helpers/cli.js';
import { makeTmp } from '../helpers/tmp.js';

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function listener(): Promise<Discovery> {
  const d = new Discovery({
    port: 1,
    name: 'listener',
    deviceId: 'TEST-LISTENER',
    protocolVersion: PROTOCOL_VERSION,
    announce: false,
  });
  await d.start();
  stops.push(() => d.stop());
  return d;
}

function heard(d: Discovery, deviceId: string, ms: number): Promise<DiscoveredPeer | undefined> {
  return new Promise((resolve) => {
    const found = d.peers().find((p) => p.deviceId === deviceId);
    if (found) return resolve(found);
    const timer = setTimeout(() => resolve(undefined), ms);
    d.on('peer', (p) => {
      if (p.deviceId !== deviceId) return;
      clearTimeout(timer);
      resolve(p);
    });
  });
}

describe('ferry serve on the local network', () => {
  it('announces its device ID and TCP port; with --announce off it stays silent', async () => {
    const d = await listener();
    const dir = makeTmp('ferry-announce-');
    const home = path.join(dir, 'home');
    const id = await ferryId(home);
    const serve = await startServe(['--root', dir, '--port', '0', '--home', home]);
    stops.push(async () => void (await serve.stop()));
    const peer = await heard(d, id, 8000);
    expect(peer?.port).toBe(serve.port);

    const quietHome = path.join(dir, 'quiet');
    const quietId = await ferryId(quietHome);
    const quiet = await startServe(['--root', dir, '--port', '0', '--home', quietHome, '--announce', 'off']);
    stops.push(async () => void (await quiet.stop()));
    expect(await heard(d, quietId, 2500)).toBeUndefined();
  });
});
