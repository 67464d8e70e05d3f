/**
 * This device's identity on a real disk: made once with the right modes, loaded unchanged
 * afterwards, and never silently replaced: a missing half, a damaged file or a key that is not
 * the certificate's gives FERRY_ERR_IDENTITY and leaves the files as they were.
 */
import { createHash, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDeviceId } from '../../electron/core/identity/device-id.js';
import {
  fingerprintOf,
  identityPaths,
  loadIdentity,
  loadOrCreateIdentity,
} from '../../electron/core/identity/identity.js';
import { FerryError } from '../../shared/errors.js';
import { makeTmp } from '../helpers/tmp.js';

const posix = process.platform !== 'win32';

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err instanceof FerryError ? err.code : `not a FerryError: ${String(err)}`;
  }
  return undefined;
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    out[name] = fs.statSync(p).isFile() ? fs.readFileSync(p, 'utf8') : '(folder)';
  }
  return out;
}

describe('identity: first run', () => {
  it('makes an ECDSA P-256 key and a self-signed, non-CA certificate, private to the user', async () => {
    const home = makeTmp();
    const id = await loadOrCreateIdentity(home);
    const files = identityPaths(home);
    expect(fs.readdirSync(files.dir).sort()).toEqual(['cert.pem', 'key.pem']);
    // No temporary folder is left behind.
    expect(fs.readdirSync(home)).toEqual(['identity']);
    if (posix) {
      expect(fs.statSync(files.dir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(files.key).mode & 0o777).toBe(0o600);
      expect(fs.statSync(files.cert).mode & 0o777).toBe(0o644); // public, but only its owner writes it
    }
    expect(fs.readFileSync(files.key, 'utf8')).toBe(id.key);
    expect(id.key).toMatch(/^-----BEGIN PRIVATE KEY-----/); // PKCS#8
    const cert = new X509Certificate(id.cert);
    expect(cert.subject).toBe('CN=ferry');
    expect(cert.issuer).toBe('CN=ferry');
    expect(cert.ca).toBe(false);
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const years = (Date.parse(cert.validTo) - Date.now()) / (365.25 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(19.9);
    expect(Date.parse(cert.validFrom)).toBeLessThan(Date.now());
    // The fingerprint is the SHA-256 of the DER, and the device ID is made from it.
    expect(id.fingerprint.equals(createHash('sha256').update(cert.raw).digest())).toBe(true);
    expect(fingerprintOf(id.cert).equals(id.fingerprint)).toBe(true);
    expect(fingerprintOf(cert.raw).equals(id.fingerprint)).toBe(true);
    expect(id.deviceId).toBe(formatDeviceId(id.fingerprint));
  });

  it('gives two devices two identities', async () => {
    const [a, b] = await Promise.all([loadOrCreateIdentity(makeTmp()), loadOrCreateIdentity(makeTmp())]);
    expect(a.deviceId).not.toBe(b.deviceId);
    expect(new X509Certificate(a.cert).serialNumber).not.toBe(new X509Certificate(b.cert).serialNumber);
  });

  it('agrees on one identity when two starts race on a fresh home', async () => {
    const home = makeTmp();
    const ids = await Promise.all([1, 2, 3].map(() => loadOrCreateIdentity(home)));
    expect(new Set(ids.map((i) => i.deviceId)).size).toBe(1);
    expect(loadIdentity(home).deviceId).toBe(ids[0]!.deviceId);
    expect(fs.readdirSync(home)).toEqual(['identity']);
  });

  it('treats an empty identity folder as no identity, and ignores a crashed attempt left behind', async () => {
    const home = makeTmp();
    fs.mkdirSync(path.join(home, 'identity'));
    // What a crash in the middle of a first run leaves: a temporary folder with a key only.
    const stale = path.join(home, 'identity.tmp-crashed');
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, 'key.pem'), 'half');
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(stale, old, old);
    const id = await loadOrCreateIdentity(home);
    expect(loadIdentity(home).deviceId).toBe(id.deviceId);
    expect(fs.existsSync(stale)).toBe(false);
  });
});

describe('identity: later runs', () => {
  it('loads the same identity without touching the files', async () => {
    const home = makeTmp();
    const first = await loadOrCreateIdentity(home);
    const files = identityPaths(home);
    const before = [fs.statSync(files.key).mtimeMs, fs.statSync(files.cert).mtimeMs];
    const again = await loadOrCreateIdentity(home);
    expect(again.deviceId).toBe(first.deviceId);
    expect(again.key).toBe(first.key);
    expect(again.fingerprint.equals(first.fingerprint)).toBe(true);
    expect([fs.statSync(files.key).mtimeMs, fs.statSync(files.cert).mtimeMs]).toEqual(before);
  });

  it.runIf(posix)('makes a key file that others could read private again', async () => {
    const home = makeTmp();
    await loadOrCreateIdentity(home);
    const { key } = identityPaths(home);
    fs.chmodSync(key, 0o644);
    await loadOrCreateIdentity(home);
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
  });

  it('loadIdentity on a home without one says so (FERRY_ERR_IDENTITY), and makes nothing', async () => {
    const home = makeTmp();
    expect(await codeOf(() => loadIdentity(home))).toBe('FERRY_ERR_IDENTITY');
    expect(fs.readdirSync(home)).toEqual([]);
  });
});

describe('identity: damaged or half present, never replaced', () => {
  /** Make an identity, damage it, and check that loading fails clearly and changes nothing. */
  async function expectRefused(
    damage: (files: ReturnType<typeof identityPaths>, other: string) => void,
    mentions: 'key.pem' | 'cert.pem',
  ): Promise<void> {
    const home = makeTmp();
    const otherHome = makeTmp();
    await loadOrCreateIdentity(home);
    await loadOrCreateIdentity(otherHome);
    const files = identityPaths(home);
    damage(files, identityPaths(otherHome).dir);
    const before = snapshot(files.dir);
    let err: unknown;
    try {
      await loadOrCreateIdentity(home);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe('FERRY_ERR_IDENTITY');
    // The message names the file, so the person knows where to look.
    expect((err as FerryError).message).toContain(path.join(files.dir, mentions));
    expect(snapshot(files.dir)).toEqual(before);
    expect(fs.readdirSync(home)).toEqual(['identity']);
    expect(await codeOf(() => loadIdentity(home))).toBe('FERRY_ERR_IDENTITY');
  }

  it('the certificate is missing', () => expectRefused((f) => fs.rmSync(f.cert), 'cert.pem'));
  it('the key is missing', () => expectRefused((f) => fs.rmSync(f.key), 'key.pem'));
  it('the certificate is garbage', () =>
    expectRefused((f) => fs.writeFileSync(f.cert, 'not a certificate\n'), 'cert.pem'));
  it('the certificate is cut short', () =>
    expectRefused((f) => {
      const text = fs.readFileSync(f.cert, 'utf8');
      fs.writeFileSync(f.cert, text.slice(0, text.length / 2));
    }, 'cert.pem'));
  it('the key is garbage', () => expectRefused((f) => fs.writeFileSync(f.key, 'not a key\n'), 'key.pem'));
  it('the key is empty', () => expectRefused((f) => fs.writeFileSync(f.key, ''), 'key.pem'));
  it("the key is another device's", () =>
    expectRefused((f, other) => fs.copyFileSync(path.join(other, 'key.pem'), f.key), 'key.pem'));
  it('the key cannot be read (a folder in its place)', () =>
    expectRefused((f) => {
      fs.rmSync(f.key);
      fs.mkdirSync(f.key);
    }, 'key.pem'));
});
