/**
 * Settings that persist: this device and the peer list, as one JSON file in the app's home
 * folder (FERRY_HOME, else the platform's config folder). Written atomically: a crash while
 * saving leaves the old file, never half of the new one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface StoredSettings {
  name: string;
  sharedFolder: string;
  downloadFolder: string;
  readOnly: boolean;
  serving: boolean;
  host: string;
  port: number;
  peers: { id: string; address: string; name?: string }[];
}

export const DEFAULT_PORT = 7117;

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
    name: os.hostname() || 'Ferry device',
    sharedFolder: path.join(userHome, 'Ferry', 'Shared'),
    downloadFolder: path.join(userHome, 'Downloads'),
    readOnly: false,
    serving: true,
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    peers: [],
  };
}

export function loadSettings(home: string, defaults: Partial<StoredSettings> = {}): StoredSettings {
  const base = { ...defaultSettings(), ...defaults };
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')) as Partial<StoredSettings>;
    return {
      ...base,
      ...pick(raw, base),
      peers: Array.isArray(raw.peers)
        ? raw.peers.filter((p) => typeof p?.id === 'string' && typeof p.address === 'string')
        : [],
    };
  } catch {
    return base;
  }
}

/** Only fields of the right type survive a hand-edited or older settings file. */
function pick(raw: Partial<StoredSettings>, base: StoredSettings): Partial<StoredSettings> {
  const out: Partial<Record<keyof StoredSettings, unknown>> = {};
  for (const k of Object.keys(base) as (keyof StoredSettings)[]) {
    if (k !== 'peers' && raw[k] !== undefined && typeof raw[k] === typeof base[k]) out[k] = raw[k];
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
