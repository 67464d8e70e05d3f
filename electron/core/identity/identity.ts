/**
 * This device's cryptographic identity: an ECDSA P-256 key and a self-signed certificate, made
 * on first run and kept in `<home>/identity/` (key.pem 0600, cert.pem 0644, the folder 0700).
 * Its device ID is the SHA-256 of the certificate (device-id.ts), so the pair must outlive every
 * update: a device that silently made a new one would break every pairing it has. Hence:
 *
 * - the two files appear together or not at all: they are written into a fresh temporary folder
 *   that is then renamed to `identity/` in one step, so a crash leaves no half identity;
 * - a missing half, an unreadable file, a key that does not match its certificate: each is a
 *   FerryError('FERRY_ERR_IDENTITY') naming the file and what to do, never a new identity.
 *
 * Loading uses node:crypto alone. Only creating a certificate needs a library (node:crypto has no
 * X.509 writer): @peculiar/x509, loaded on first run only.
 */
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FerryError } from '../../../shared/errors.js';
import { formatDeviceId } from './device-id.js';

export interface Identity {
  /** The private key, PEM (PKCS#8). */
  key: string;
  /** The self-signed certificate, PEM. */
  cert: string;
  /** SHA-256 of the certificate's DER: what peers pin. */
  fingerprint: Buffer;
  /** The fingerprint for people (formatDeviceId). */
  deviceId: string;
}

/** Subject and issuer of every Ferry certificate: nothing personal goes into it. */
export const CERT_COMMON_NAME = 'ferry';
/**
 * Twenty years: a certificate is an identity here, not a credential a CA vouches for; peers pin
 * its fingerprint and never check its dates, so it must simply never need renewing.
 */
const VALIDITY_MS = 20 * 365.25 * 24 * 3600 * 1000;
/** Leftover temporary folders of a creation that crashed are removed after this long. */
const STALE_TMP_MS = 10 * 60 * 1000;

export function identityPaths(home: string): { dir: string; key: string; cert: string } {
  const dir = path.join(home, 'identity');
  return { dir, key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem') };
}

/** SHA-256 of a certificate's DER (given as DER or PEM). */
export function fingerprintOf(cert: Buffer | string): Buffer {
  const der = typeof cert === 'string' || cert[0] !== 0x30 ? new X509Certificate(cert).raw : cert;
  return createHash('sha256').update(der).digest();
}

const REMEDY = (dir: string): string =>
  `Restore the folder ${dir} from a backup to keep this device's ID. To start over with a new ID instead, delete that folder: every paired device will then see a new device and must pair again.`;

function identityError(file: string, what: string, dir: string, cause?: unknown): FerryError {
  return new FerryError('FERRY_ERR_IDENTITY', `This device's identity is unusable: ${file} ${what}. ${REMEDY(dir)}`, {
    cause,
  });
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FerryError(
      'FERRY_ERR_IDENTITY',
      `Cannot read this device's identity file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}. Check that it belongs to the user running Ferry.`,
      { cause: err },
    );
  }
}

/**
 * Parse and check a key and certificate; throws FERRY_ERR_IDENTITY naming the file at fault.
 */
function checkIdentity(key: string, cert: string, files: { key: string; cert: string; dir: string }): Identity {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw identityError(files.cert, 'is not a certificate (damaged or edited?)', files.dir, err);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw identityError(files.key, 'is not a private key (damaged or edited?)', files.dir, err);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw identityError(files.key, `does not belong to the certificate ${files.cert}`, files.dir);
  }
  const fingerprint = createHash('sha256').update(x509.raw).digest();
  return { key, cert, fingerprint, deviceId: formatDeviceId(fingerprint) };
}

/**
 * Load this device's identity from `<home>/identity/`; FERRY_ERR_IDENTITY when it is not there
 * (whole) or not usable. `ferry id` and the server use loadOrCreateIdentity instead.
 */
export function loadIdentity(home: string): Identity {
  const files = identityPaths(home);
  const key = readOrUndefined(files.key);
  const cert = readOrUndefined(files.cert);
  if (key === undefined && cert === undefined) {
    throw new FerryError('FERRY_ERR_IDENTITY', `This device has no identity yet in ${files.dir}.`);
  }
  if (key === undefined)
    throw identityError(files.key, `is missing (its certificate ${files.cert} is there)`, files.dir);
  if (cert === undefined) throw identityError(files.cert, `is missing (its key ${files.key} is there)`, files.dir);
  const id = checkIdentity(key, cert, files);
  tightenKeyMode(files.key);
  return id;
}

/** A key file others can read is made private again, as ssh insists; best effort. */
function tightenKeyMode(file: string): void {
  if (process.platform === 'win32') return;
  try {
    if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  } catch {
    // not ours to change: the key still works
  }
}

/** True when `dir` is missing, or an empty folder (nothing there to lose). */
function isAbsentOrEmpty(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new FerryError('FERRY_ERR_IDENTITY', `Cannot read the folder ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** A new ECDSA P-256 key and a self-signed certificate for it, both PEM. */
export async function generateIdentity(): Promise<{ key: string; cert: string }> {
  // tsyringe, under @peculiar/x509, insists on a Reflect metadata polyfill being loaded first.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await globalThis.crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  // RFC 5280 4.1.2.2: a positive serial of up to 20 bytes; random, so two devices never share one.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: `CN=${CERT_COMMON_NAME}`,
      // A day back: a peer whose clock is behind still sees a certificate already valid.
      notBefore: new Date(now - 24 * 3600 * 1000),
      notAfter: new Date(now + VALIDITY_MS),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      ],
    },
    globalThis.crypto,
  );
  const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' });
  return { key: key as string, cert: cert.toString('pem') + '\n' };
}

function removeStaleTemps(home: string): void {
  try {
    for (const name of fs.readdirSync(home)) {
      if (!name.startsWith('identity.tmp-')) continue;
      const p = path.join(home, name);
      if (Date.now() - fs.statSync(p).mtimeMs > STALE_TMP_MS) fs.rmSync(p, { recursive: true, force: true });
    }
  } catch {
    // tidying only
  }
}

/**
 * This device's identity: loaded from `<home>/identity/`, or made there on first run. Two
 * processes starting at once on a fresh home agree on one identity (the first rename wins; the
 * other loads it).
 */
export async function loadOrCreateIdentity(home: string): Promise<Identity> {
  const files = identityPaths(home);
  if (!isAbsentOrEmpty(files.dir)) return loadIdentity(home);

  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const { key, cert } = await generateIdentity();
  // mkdtemp makes the folder 0700; the files get their modes as they are created.
  const tmp = fs.mkdtempSync(path.join(home, 'identity.tmp-'));
  try {
    writeDurable(path.join(tmp, 'key.pem'), key, 0o600);
    writeDurable(path.join(tmp, 'cert.pem'), cert, 0o644);
    try {
      fs.renameSync(tmp, files.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM' || code === 'EISDIR') {
        // Another process made one first, or (Windows) an empty folder stands in the way.
        if (isAbsentOrEmpty(files.dir)) {
          fs.rmdirSync(files.dir);
          fs.renameSync(tmp, files.dir);
        } else {
          return loadIdentity(home);
        }
      } else {
        throw err;
      }
    }
    syncDir(home);
  } catch (err) {
    if (err instanceof FerryError) throw err;
    throw new FerryError(
      'FERRY_ERR_IDENTITY',
      `Cannot save this device's new identity in ${files.dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    removeStaleTemps(home);
  }
  return checkIdentity(key, cert, files);
}

/** Write and fsync, so that the rename that publishes the file never points at empty blocks. */
function writeDurable(file: string, text: string, mode: number): void {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  // The umask may have taken bits away from a 0644; never adds any to 0600.
  if (process.platform !== 'win32') fs.chmodSync(file, mode);
}

function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some filesystems cannot fsync a folder; the rename is still atomic
  }
}
