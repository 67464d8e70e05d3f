/**
 * Settings that persist: this device and the peer list, as one JSON file in the app's home
 * folder (FERRY_HOME, else the platform's config folder). Written atomically: a crash while
 * saving leaves the old file, never half of the new one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeviceId, normalizeDeviceId } from '../identity/device-id.js';

export interface StoredPeer {
  id: string;
  address: string;
  name?: string;
  /** The device ID seen at this address, pinned: another certificate there is refused. */
  deviceId?: string;
}

export interface StoredSettings {
  /** The settings file's format: 2 since connections are authenticated (issue 4). */
  version: number;
  name: string;
  sharedFolder: string;
  downloadFolder: string;
  readOnly: boolean;
  serving: boolean;
  host: string;
  port: number;
  /** Announce this device on the local network and list the devices heard there. */
  discovery: boolean;
  peers: StoredPeer[];
}

export const DEFAULT_PORT = 7117;
export const SETTINGS_VERSION = 2;
/**
 * Every interface: connections are TLS with pinned fingerprints and an unpaired device may do
 * nothing but ask to pair, so listening beyond loopback no longer exposes the shared folder.
 */
export const DEFAULT_HOST = '0.0.0.0';
/** What version 1 wrote for every user, chosen or not: when connections were plain TCP. */
const V1_DEFAULT_HOST = '127.0.0.1';

/** The folder holding Ferry's settings: FERRY_HOME, or the platform's usual place. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FERRY_HOME) return path.resolve(env.FERRY_HOME);
  if (process.platform === 'win32')
    return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'Ferry');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Ferry');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'ferry');
}

export function defaultSettings(): StoredSettings {
  const userHome = os.homedir();
  return {
    version: SETTINGS_VERSION,
    name: os.hostname() || 'Ferry device',
    sharedFolder: path.join(userHome, 'Ferry', 'Shared'),
    downloadFolder: path.join(userHome, 'Downloads'),
    readOnly: false,
    serving: true,
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    discovery: true,
    peers: [],
  };
}

export function loadSettings(home: string, defaults: Partial<StoredSettings> = {}): StoredSettings {
  const base = { ...defaultSettings(), ...defaults };
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')) as Partial<StoredSettings>;
    const picked = pick(raw, base);
    // Version 1 saved 127.0.0.1 whether or not anyone chose it: the new default replaces it.
    if ((typeof raw.version !== 'number' || raw.version < 2) && picked.host === V1_DEFAULT_HOST) delete picked.host;
    return {
      ...base,
      ...picked,
      version: SETTINGS_VERSION,
      peers: Array.isArray(raw.peers) ? raw.peers.filter(isStoredPeer).map(cleanPeer) : [],
    };
  } catch {
    return base;
  }
}

function isStoredPeer(p: unknown): p is StoredPeer {
  const o = p as Partial<StoredPeer> | null;
  return typeof o?.id === 'string' && typeof o.address === 'string';
}

function cleanPeer(p: StoredPeer): StoredPeer {
  return {
    id: p.id,
    address: p.address,
    ...(typeof p.name === 'string' ? { name: p.name } : {}),
    // A hand-edited ID that is not one is dropped: the next connection pins what it sees.
    ...(typeof p.deviceId === 'string' && isDeviceId(p.deviceId) ? { deviceId: normalizeDeviceId(p.deviceId) } : {}),
  };
}

/** Only fields of the right type survive a hand-edited or older settings file. */
function pick(raw: Partial<StoredSettings>, base: StoredSettings): Partial<StoredSettings> {
  const out: Partial<Record<keyof StoredSettings, unknown>> = {};
  for (const k of Object.keys(base) as (keyof StoredSettings)[]) {
    if (k !== 'peers' && k !== 'version' && raw[k] !== undefined && typeof raw[k] === typeof base[k]) out[k] = raw[k];
  }
  return out as Partial<StoredSettings>;
}

export function saveSettings(home: string, s: StoredSettings): void {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = path.join(home, 'settings.json');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}
