/**
 * The trusted devices list on a real disk: add, look up, change permissions, revoke, persist
 * atomically with a private mode; changes made by another process seen on the next lookup; a
 * damaged file set aside (never trusted into, never deleted) and the store starting empty.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDeviceId } from '../../electron/core/identity/device-id.js';
import { DEFAULT_PERMISSIONS, type TrustedDevice, TrustStore } from '../../electron/core/identity/trust-store.js';
import { makeTmp } from '../helpers/tmp.js';
import { codeOf } from '../helpers/errors.js';

const fp = (seed: string): Buffer => createHash('sha256').update(seed).digest();
const posix = process.platform !== 'win32';

describe('TrustStore', () => {
  it('starts empty when there is no file, and writes none until something changes', () => {
    const home = makeTmp();
    const store = TrustStore.load(home);
    expect(store.list()).toEqual([]);
    expect(store.warning).toBeUndefined();
    expect(store.get(fp('a'))).toBeUndefined();
    expect(fs.readdirSync(home)).toEqual([]);
  });

  it('adds a device with default permissions, finds it by fingerprint (bytes or hex) and by ID', () => {
    const home = makeTmp();
    const store = TrustStore.load(home);
    const d = store.add({ fingerprint: fp('bob'), name: 'Bob laptop', addedAt: 1000 });
    expect(d).toEqual<TrustedDevice>({
      deviceId: formatDeviceId(fp('bob')),
      name: 'Bob laptop',
      fingerprint: fp('bob').toString('hex'),
      addedAt: 1000,
      permissions: { ...DEFAULT_PERMISSIONS },
    });
    expect(DEFAULT_PERMISSIONS).toEqual({ browse: true, send: true, autoAccept: false });
    expect(store.get(fp('bob'))).toEqual(d);
    expect(store.get(fp('bob').toString('hex').toUpperCase())).toEqual(d);
    expect(store.getById(d.deviceId.toLowerCase().replace(/-/g, ''))).toEqual(d);
    expect(store.get(fp('mallory'))).toBeUndefined();
    expect(store.allows(fp('bob'), 'browse')).toBe(true);
    expect(store.allows(fp('bob'), 'autoAccept')).toBe(false);
    expect(store.allows(fp('mallory'), 'browse')).toBe(false);
  });

  it('hands out copies: changing a returned device changes nothing', () => {
    const store = TrustStore.load(makeTmp());
    const d = store.add({ fingerprint: fp('bob'), name: 'bob' });
    d.permissions.autoAccept = true;
    store.list()[0]!.permissions.browse = false;
    expect(store.get(fp('bob'))!.permissions).toEqual(DEFAULT_PERMISSIONS);
  });

  it('persists across loads, atomically, readable by the user alone', () => {
    const home = makeTmp();
    const a = TrustStore.load(home);
    a.add({ fingerprint: fp('bob'), name: 'bob', addedAt: 1 });
    a.add({ fingerprint: fp('carol'), name: 'carol', permissions: { send: false }, addedAt: 2 });
    const file = path.join(home, 'trusted.json');
    if (posix) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(home)).toEqual(['trusted.json']); // no temporary file left
    const b = TrustStore.load(home);
    expect(b.list()).toEqual(a.list());
    expect(b.get(fp('carol'))!.permissions).toEqual({ browse: true, send: false, autoAccept: false });
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; devices: TrustedDevice[] };
    expect(raw.version).toBe(1);
    expect(raw.devices.map((d) => d.name)).toEqual(['bob', 'carol']);
  });

  it('re-adding a device renames it and sets what is given, keeping when it was added', () => {
    const store = TrustStore.load(makeTmp());
    store.add({ fingerprint: fp('bob'), name: 'bob', addedAt: 5, permissions: { autoAccept: true } });
    const again = store.add({
      fingerprint: fp('bob'),
      name: 'Bob (new name)',
      addedAt: 99,
      permissions: { browse: false },
    });
    expect(again.addedAt).toBe(5);
    expect(again.name).toBe('Bob (new name)');
    expect(again.permissions).toEqual({ browse: false, send: true, autoAccept: true });
    expect(store.list()).toHaveLength(1);
  });

  it('updates permissions and names, removes, and says when a device is unknown', () => {
    const store = TrustStore.load(makeTmp());
    const d = store.add({ fingerprint: fp('bob'), name: 'bob' });
    expect(store.update(d.deviceId, { autoAccept: true, browse: false }).permissions).toEqual({
      browse: false,
      send: true,
      autoAccept: true,
    });
    expect(store.rename(d.deviceId, 'Bob').name).toBe('Bob');
    expect(codeOf(() => store.update(formatDeviceId(fp('nobody')), { send: true }))).toBe('FERRY_ERR_NOT_FOUND');
    expect(codeOf(() => store.update('not-an-id', { send: true }))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(store.remove(formatDeviceId(fp('nobody')))).toBe(false);
    expect(store.remove(d.deviceId)).toBe(true);
    expect(store.get(fp('bob'))).toBeUndefined();
    expect(TrustStore.load(store.home).list()).toEqual([]);
  });

  it('refuses a fingerprint that is not 32 bytes or 64 hex digits', () => {
    const store = TrustStore.load(makeTmp());
    expect(codeOf(() => store.add({ fingerprint: Buffer.alloc(20), name: 'x' }))).toBe('FERRY_ERR_BAD_ARGUMENT');
    expect(codeOf(() => store.get('abc'))).toBe('FERRY_ERR_BAD_ARGUMENT');
  });

  it("emits 'change' with the new list on every change", () => {
    const store = TrustStore.load(makeTmp());
    const seen: number[] = [];
    store.on('change', (list) => seen.push(list.length));
    const d = store.add({ fingerprint: fp('bob'), name: 'bob' });
    store.add({ fingerprint: fp('carol'), name: 'carol' });
    store.update(d.deviceId, { send: false });
    store.remove(d.deviceId);
    expect(seen).toEqual([1, 2, 2, 1]);
  });

  it('sees a revocation made by another process on the next lookup', () => {
    const home = makeTmp();
    const server = TrustStore.load(home);
    const d = server.add({ fingerprint: fp('bob'), name: 'bob' });
    expect(server.allows(fp('bob'), 'browse')).toBe(true);
    const changes: number[] = [];
    server.on('change', (list) => changes.push(list.length));
    // `ferry trust remove` in a terminal: another store on the same home.
    const cli = TrustStore.load(home);
    expect(cli.remove(d.deviceId)).toBe(true);
    expect(server.allows(fp('bob'), 'browse')).toBe(false);
    expect(changes).toEqual([0]);
    // And a change made here after that does not bring the revoked device back.
    server.add({ fingerprint: fp('carol'), name: 'carol' });
    expect(
      TrustStore.load(home)
        .list()
        .map((x) => x.name),
    ).toEqual(['carol']);
  });
});

describe('TrustStore: a damaged file', () => {
  function damaged(text: string): { store: TrustStore; home: string } {
    const home = makeTmp();
    fs.writeFileSync(path.join(home, 'trusted.json'), text);
    return { store: TrustStore.load(home), home };
  }

  for (const [what, text] of [
    ['not JSON', '{"version":1,"devices":[{"fingerprint":'],
    ['not a list', '{"version":1,"devices":{}}'],
    [
      'an entry without a valid fingerprint',
      JSON.stringify({ version: 1, devices: [{ fingerprint: 'zz', name: 'x' }] }),
    ],
    ['empty', ''],
  ] as const) {
    it(`(${what}) is set aside whole, and the store starts empty with a warning`, () => {
      const { store, home } = damaged(text);
      expect(store.list()).toEqual([]);
      const names = fs.readdirSync(home);
      const aside = names.find((n) => n.startsWith('trusted.json.corrupt-'));
      expect(aside, names.join()).toBeDefined();
      expect(fs.readFileSync(path.join(home, aside!), 'utf8')).toBe(text); // kept, byte for byte
      expect(names).not.toContain('trusted.json');
      expect(store.warning).toContain(aside);
      // Trusting a device again writes a fresh, valid file.
      store.add({ fingerprint: fp('bob'), name: 'bob' });
      expect(TrustStore.load(home).list()).toHaveLength(1);
    });
  }

  it('grants nothing that is not written as true (fail closed)', () => {
    const { store } = damaged(
      JSON.stringify({
        version: 1,
        devices: [{ fingerprint: fp('bob').toString('hex'), name: 'bob', permissions: { browse: 'yes', send: 1 } }],
      }),
    );
    expect(store.warning).toBeUndefined();
    expect(store.get(fp('bob'))!.permissions).toEqual({ browse: false, send: false, autoAccept: false });
    // The device ID is recomputed from the fingerprint, whatever the file said.
    expect(store.get(fp('bob'))!.deviceId).toBe(formatDeviceId(fp('bob')));
  });

  it('from a newer Ferry is refused with FERRY_ERR_IDENTITY and left in place', () => {
    const home = makeTmp();
    const text = JSON.stringify({ version: 2, devices: [] });
    fs.writeFileSync(path.join(home, 'trusted.json'), text);
    expect(codeOf(() => TrustStore.load(home))).toBe('FERRY_ERR_IDENTITY');
    expect(fs.readFileSync(path.join(home, 'trusted.json'), 'utf8')).toBe(text);
  });

  it('damaged by hand while running: set aside on the next lookup, with a warning event', () => {
    const home = makeTmp();
    const store = TrustStore.load(home);
    store.add({ fingerprint: fp('bob'), name: 'bob' });
    const warnings: string[] = [];
    store.on('warning', (w) => warnings.push(w));
    fs.writeFileSync(path.join(home, 'trusted.json'), '{ oops');
    expect(store.allows(fp('bob'), 'browse')).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(fs.readdirSync(home).some((n) => n.startsWith('trusted.json.corrupt-'))).toBe(true);
  });
});
