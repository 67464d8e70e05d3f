/**
 * The devices this device trusts, each with what it may do, kept in `<home>/trusted.json`
 * (written atomically, mode 0600). Devices are known by the SHA-256 fingerprint of their
 * certificate; the device ID stored beside it is for people reading the file.
 *
 * Several processes may share one home (the app, and `ferry trust remove` in a terminal): every
 * read first checks, with one stat, whether the file changed on disk, so a revocation made by
 * another process takes effect on the next lookup.
 *
 * A damaged trusted.json (bad JSON, an entry without a valid fingerprint) is moved aside to
 * `trusted.json.corrupt-<time>` and the store starts empty, with `warning` saying so. Why not
 * refuse to start, as a damaged identity does: losing the list fails closed (nobody gets in
 * until paired again) and costs the user a re-pairing, while losing an identity would silently
 * break every other device's trust in this one; and a desktop app that cannot start over a
 * list it could rebuild helps nobody. The bad file is kept, so nothing is lost for good.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FerryError } from '../../../shared/errors.js';
import { FINGERPRINT_SIZE, formatDeviceId, parseDeviceId } from './device-id.js';

export interface Permissions {
  /** May list and download from my shared folder. */
  browse: boolean;
  /** May send files to me. */
  send: boolean;
  /** Its uploads start without asking me (needs `send`). */
  autoAccept: boolean;
}

export interface TrustedDevice {
  deviceId: string;
  name: string;
  /** SHA-256 of the device's certificate, lower-case hex. */
  fingerprint: string;
  /** Milliseconds since the epoch. */
  addedAt: number;
  permissions: Permissions;
}

export interface TrustInput {
  fingerprint: Buffer | string;
  name: string;
  permissions?: Partial<Permissions>;
  addedAt?: number;
}

/**
 * What a newly paired device may do: the user approved it, so browse and send; but its uploads
 * still ask first until the user says otherwise.
 */
export const DEFAULT_PERMISSIONS: Readonly<Permissions> = { browse: true, send: true, autoAccept: false };

const FILE_VERSION = 1;

export interface TrustStoreEvents {
  /** The list changed (here or, seen on the next read, in another process). */
  change: [TrustedDevice[]];
  /** Something the user should know: a damaged file was set aside. */
  warning: [string];
}

/** Lower-case hex of a fingerprint given as bytes or hex; FERRY_ERR_BAD_ARGUMENT otherwise. */
export function fingerprintHex(fp: Buffer | string): string {
  if (Buffer.isBuffer(fp)) {
    if (fp.length !== FINGERPRINT_SIZE)
      throw new FerryError('FERRY_ERR_BAD_ARGUMENT', `A fingerprint has ${FINGERPRINT_SIZE} bytes, not ${fp.length}`);
    return fp.toString('hex');
  }
  if (!/^[0-9a-f]{64}$/i.test(fp))
    throw new FerryError('FERRY_ERR_BAD_ARGUMENT', `"${fp}" is not a SHA-256 fingerprint (64 hex digits)`);
  return fp.toLowerCase();
}

function copy(d: TrustedDevice): TrustedDevice {
  return { ...d, permissions: { ...d.permissions } };
}

/** One entry of the file, checked; undefined when it is not a usable entry. */
function readEntry(raw: unknown): TrustedDevice | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.fingerprint !== 'string' || !/^[0-9a-f]{64}$/i.test(r.fingerprint)) return undefined;
  const fp = r.fingerprint.toLowerCase();
  const p = (typeof r.permissions === 'object' && r.permissions !== null ? r.permissions : {}) as Record<
    string,
    unknown
  >;
  return {
    // Recomputed: the fingerprint is the truth, a hand-edited ID is not.
    deviceId: formatDeviceId(Buffer.from(fp, 'hex')),
    name: typeof r.name === 'string' ? r.name : '',
    fingerprint: fp,
    addedAt: typeof r.addedAt === 'number' && Number.isFinite(r.addedAt) ? r.addedAt : 0,
    // A permission that is missing or not a boolean is not granted: fail closed (an older file
    // meeting a newer permission, or a hand edit).
    permissions: { browse: p.browse === true, send: p.send === true, autoAccept: p.autoAccept === true },
  };
}

type Stamp = string;

function stampOf(file: string): Stamp {
  try {
    const st = fs.statSync(file, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return 'absent';
  }
}

export class TrustStore extends EventEmitter<TrustStoreEvents> {
  readonly file: string;
  private devices = new Map<string, TrustedDevice>();
  private stamp: Stamp = 'absent';
  /** Set when loading found a damaged file (and set it aside): say it to the user. */
  warning: string | undefined;

  private constructor(readonly home: string) {
    super();
    this.file = path.join(home, 'trusted.json');
  }

  /** Read `<home>/trusted.json` (none yet: an empty store). */
  static load(home: string): TrustStore {
    const s = new TrustStore(home);
    s.warning = s.reload();
    return s;
  }

  /** Re-read the file; returns a warning when it was damaged and set aside. */
  private reload(): string | undefined {
    const stamp = stampOf(this.file);
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.devices = new Map();
        this.stamp = 'absent';
        return undefined;
      }
      throw new FerryError(
        'FERRY_ERR_IDENTITY',
        `Cannot read the trusted devices list ${this.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}. Check that it belongs to the user running Ferry.`,
        { cause: err },
      );
    }
    const parsed = this.parse(text);
    if (parsed) {
      this.devices = parsed;
      this.stamp = stamp;
      return undefined;
    }
    const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.renameSync(this.file, aside);
    } catch (err) {
      throw new FerryError(
        'FERRY_ERR_IDENTITY',
        `The trusted devices list ${this.file} is damaged and could not be moved aside (${(err as NodeJS.ErrnoException).code ?? String(err)}). Move or delete it, then start Ferry again.`,
        { cause: err },
      );
    }
    this.devices = new Map();
    this.stamp = 'absent';
    return `The trusted devices list ${this.file} was damaged; it was kept as ${aside} and Ferry starts with no trusted devices. Pair your devices again (or repair the file and put it back).`;
  }

  /** The devices in the file's text, or undefined when the text is not a valid list. */
  private parse(text: string): Map<string, TrustedDevice> | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { devices?: unknown }).devices))
      return undefined;
    const version = (raw as { version?: unknown }).version;
    if (typeof version === 'number' && version > FILE_VERSION) {
      throw new FerryError(
        'FERRY_ERR_IDENTITY',
        `The trusted devices list ${this.file} was written by a newer Ferry (format ${version}); update Ferry to use it.`,
      );
    }
    const out = new Map<string, TrustedDevice>();
    for (const e of (raw as { devices: unknown[] }).devices) {
      const d = readEntry(e);
      if (!d) return undefined;
      out.set(d.fingerprint, d);
    }
    return out;
  }

  /** Pick up a change another process made to the file since we last read or wrote it. */
  private sync(): void {
    if (stampOf(this.file) === this.stamp) return;
    const warning = this.reload();
    if (warning) {
      this.warning = warning;
      this.emit('warning', warning);
    }
    this.emit('change', this.list());
  }

  private save(): void {
    fs.mkdirSync(this.home, { recursive: true, mode: 0o700 });
    const body = {
      version: FILE_VERSION,
      devices: [...this.devices.values()].sort((a, b) => a.addedAt - b.addedAt),
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeFileSync(fd, JSON.stringify(body, null, 2) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    this.stamp = stampOf(this.file);
    this.emit('change', this.list());
  }

  /** Every trusted device (copies), oldest first. */
  list(): TrustedDevice[] {
    this.sync();
    return [...this.devices.values()].sort((a, b) => a.addedAt - b.addedAt).map(copy);
  }

  /** The trusted device with this certificate fingerprint, if any. */
  get(fingerprint: Buffer | string): TrustedDevice | undefined {
    this.sync();
    const d = this.devices.get(fingerprintHex(fingerprint));
    return d && copy(d);
  }

  /** The trusted device with this device ID (any form parseDeviceId accepts), if any. */
  getById(deviceId: string): TrustedDevice | undefined {
    return this.get(parseDeviceId(deviceId));
  }

  /** True when the device is trusted and has the permission. */
  allows(fingerprint: Buffer | string, what: keyof Permissions): boolean {
    return this.get(fingerprint)?.permissions[what] === true;
  }

  /**
   * Trust a device (or, if already trusted, rename it and set the permissions given, keeping
   * when it was first added). Permissions not given take DEFAULT_PERMISSIONS.
   */
  add(device: TrustInput): TrustedDevice {
    this.sync();
    const fp = fingerprintHex(device.fingerprint);
    const old = this.devices.get(fp);
    const d: TrustedDevice = {
      deviceId: formatDeviceId(Buffer.from(fp, 'hex')),
      name: device.name,
      fingerprint: fp,
      addedAt: old?.addedAt ?? device.addedAt ?? Date.now(),
      permissions: { ...(old?.permissions ?? DEFAULT_PERMISSIONS), ...device.permissions },
    };
    this.devices.set(fp, d);
    this.save();
    return copy(d);
  }

  private require(deviceId: string): TrustedDevice {
    const fp = parseDeviceId(deviceId).toString('hex');
    const d = this.devices.get(fp);
    if (!d)
      throw new FerryError(
        'FERRY_ERR_NOT_FOUND',
        `No trusted device has the ID ${formatDeviceId(Buffer.from(fp, 'hex'))}`,
      );
    return d;
  }

  /** Change some permissions of a trusted device; FERRY_ERR_NOT_FOUND when it is not trusted. */
  update(deviceId: string, permissions: Partial<Permissions>): TrustedDevice {
    this.sync();
    const d = this.require(deviceId);
    const next = { ...d, permissions: { ...d.permissions } };
    for (const k of ['browse', 'send', 'autoAccept'] as const) {
      const v = permissions[k];
      if (v !== undefined) next.permissions[k] = v === true;
    }
    this.devices.set(d.fingerprint, next);
    this.save();
    return copy(next);
  }

  /** Rename a trusted device; FERRY_ERR_NOT_FOUND when it is not trusted. */
  rename(deviceId: string, name: string): TrustedDevice {
    this.sync();
    const d = { ...this.require(deviceId), name };
    this.devices.set(d.fingerprint, d);
    this.save();
    return copy(d);
  }

  /** Stop trusting a device; false when it was not trusted. */
  remove(deviceId: string): boolean {
    this.sync();
    const fp = parseDeviceId(deviceId).toString('hex');
    if (!this.devices.delete(fp)) return false;
    this.save();
    return true;
  }
}
