/**
 * Command-line grammar: the commands, their options and help texts, and parsing with
 * node:util parseArgs. Every mistake in what the user typed becomes a UsageError (exit code 2)
 * naming the command's help; nothing here touches the network or the disk.
 */
import { parseArgs } from 'node:util';
import { FerryError } from '../../shared/errors.js';
import { parsePeerAddress, type PeerAddress } from '../../shared/peer-address.js';
import type { ConflictPolicy } from '../../shared/types.js';
import { parseDeviceId } from '../core/identity/device-id.js';
import { DEFAULT_SOCKETS, MAX_SOCKETS_PER_SESSION } from '../core/protocol/constants.js';

/** What the user typed was wrong: exit code 2, and a hint to the command's help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type CommandName = 'serve' | 'ls' | 'send' | 'get' | 'pair' | 'id' | 'trust' | 'ui';

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given several times (values come back as an array). */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. DIR. */
  value?: string;
  help: string;
}

interface CommandSpec {
  name: CommandName;
  usage: string;
  summary: string;
  description: string[];
  options: Record<string, OptionSpec>;
  positionals: { min: number; max: number; missing: string };
  examples: string[];
}

export const DEFAULT_PORT = 7117;
export const DEFAULT_RETRIES = 3;
/**
 * Every connection is TLS 1.3 and authenticated by pinned device IDs (issue 4), so serve listens
 * on all interfaces. IPv4 only by default: `::` would be dual-stack on most systems, but IPv4
 * peers would then show up in logs as `[::ffff:192.168.1.31]`; `--host ::` is there for IPv6.
 */
export const DEFAULT_HOST = '0.0.0.0';

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

const HOME_OPTION: OptionSpec = {
  type: 'string',
  value: 'DIR',
  help: "this device's folder: its identity and trusted devices (default: $FERRY_HOME, else the usual config folder)",
};

/** `--trust DEVICE_ID` on the client commands: pin the peer, and trust it for this run. */
const CLIENT_TRUST_OPTION: OptionSpec = {
  type: 'string',
  multiple: true,
  value: 'DEVICE_ID',
  help: 'connect only if the peer is this device, and trust it for this run (repeatable)',
};

const ON_OFF = 'on|off';

const PERMISSION_OPTIONS: Record<string, OptionSpec> = {
  browse: { type: 'string', value: ON_OFF, help: 'may list and get from my shared folder' },
  send: { type: 'string', value: ON_OFF, help: 'may send files to me' },
  'auto-accept': { type: 'string', value: ON_OFF, help: 'its uploads start without asking me' },
};

/** What `ferry serve --pairing` takes. */
export type PairingMode = 'ask' | 'stdin' | 'off';
const PAIRING_MODES: readonly PairingMode[] = ['ask', 'stdin', 'off'];

const TRANSFER_OPTIONS: Record<string, OptionSpec> = {
  conflict: {
    type: 'string',
    value: 'POLICY',
    help: 'when a different file has the same name: rename (default, "name (1).ext"), overwrite or skip',
  },
  sockets: {
    type: 'string',
    value: 'N',
    help: `TCP connections to spread blocks over (default ${DEFAULT_SOCKETS}, at most ${MAX_SOCKETS_PER_SESSION})`,
  },
  retries: {
    type: 'string',
    value: 'N',
    help: `when the connection drops, reconnect and resume up to N times (default ${DEFAULT_RETRIES})`,
  },
  trust: CLIENT_TRUST_OPTION,
  home: HOME_OPTION,
};

export const COMMANDS: Record<CommandName, CommandSpec> = {
  serve: {
    name: 'serve',
    usage:
      'ferry serve [--root DIR] [--host HOST] [--port PORT] [--read-only] [--trust DEVICE_ID]... [--accept-uploads] [--pairing MODE] [--home DIR]',
    summary: 'share a folder so that trusted peers can list it, send to it and get from it',
    description: [
      'Shares DIR until stopped with Ctrl-C. Prints "listening on HOST:PORT" once ready, and one',
      'line per transfer as it ends. Every connection is encrypted (TLS 1.3) and authenticated:',
      'only devices in the trusted list (paired, or named with --trust) may list, send or get.',
      "Listens on all interfaces: peers use this machine's address (printed on stderr).",
      '',
      'A peer that is not trusted may ask to pair (ferry pair). In a terminal, serve shows its name,',
      'device ID and a 6-digit code and asks; otherwise it declines. An upload from a trusted peer',
      'that may not send without asking is asked about in a terminal; otherwise it is declined,',
      'unless --accept-uploads.',
    ],
    options: {
      root: { type: 'string', value: 'DIR', help: 'the folder to share (default: the current folder)' },
      host: { type: 'string', value: 'HOST', help: `address to listen on (default ${DEFAULT_HOST}: all; :: for IPv6)` },
      port: { type: 'string', value: 'PORT', help: `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)` },
      'read-only': { type: 'boolean', help: 'refuse uploads: peers may only list and get' },
      trust: {
        type: 'string',
        multiple: true,
        value: 'DEVICE_ID',
        help: 'add this device to the trusted devices (may browse and send) before serving (repeatable)',
      },
      'accept-uploads': {
        type: 'boolean',
        help: 'accept every upload from a trusted peer without asking (for servers without a terminal)',
      },
      announce: {
        type: 'string',
        value: 'on|off',
        help: 'announce this device on the local network by UDP multicast so peers find it (default on)',
      },
      pairing: {
        type: 'string',
        value: 'MODE',
        help: 'pairing requests: ask (default: in a terminal; declined otherwise), stdin (read y/n lines from stdin even when it is not a terminal, for scripts), off (decline all)',
      },
      home: HOME_OPTION,
      help: HELP_OPTION,
    },
    positionals: { min: 0, max: 0, missing: '' },
    examples: [
      'ferry serve --root ~/Shared',
      'ferry serve --root ~/Public --port 7117 --read-only',
      'ferry serve --root /srv/inbox --trust P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2 --accept-uploads',
    ],
  },
  ls: {
    name: 'ls',
    usage: 'ferry ls PEER [PATH] [--json] [--trust DEVICE_ID]... [--home DIR]',
    summary: "list a folder of a peer's shared folder",
    description: [
      'Lists PATH (default: the top of the shared folder) on PEER: folders first, then files, with',
      'size, modification time and name (folders end with "/").',
      '',
      'PEER must be trusted: paired (ferry pair), or named with --trust. Without --trust, any',
      'device answering at PEER is checked against the trusted devices of --home.',
    ],
    options: {
      json: { type: 'boolean', help: 'print the entries as JSON (name, kind, size, mtime in ms)' },
      trust: CLIENT_TRUST_OPTION,
      home: HOME_OPTION,
      help: HELP_OPTION,
    },
    positionals: { min: 1, max: 2, missing: 'say which peer to list, as host:port' },
    examples: ['ferry ls 127.0.0.1:7117', 'ferry ls 127.0.0.1:7117 photos/2024 --json'],
  },
  send: {
    name: 'send',
    usage:
      'ferry send PEER PATH... [--to DIR] [--conflict POLICY] [--sockets N] [--retries N] [--trust DEVICE_ID]... [--home DIR]',
    summary: 'send local files and folders to a peer',
    description: [
      "Each PATH lands under the peer's shared folder (or DIR inside it) by its own name:",
      '"ferry send PEER photos" makes photos/ in the shared folder. Files already there with the',
      'same size and modification time are skipped as identical.',
    ],
    options: {
      to: { type: 'string', value: 'DIR', help: "folder inside the peer's shared folder (default: its top)" },
      ...TRANSFER_OPTIONS,
      help: HELP_OPTION,
    },
    positionals: { min: 2, max: Infinity, missing: 'say which peer to send to and what to send' },
    examples: ['ferry send 127.0.0.1:7117 photos', 'ferry send 192.168.1.20:7117 report.pdf notes --to inbox'],
  },
  get: {
    name: 'get',
    usage:
      'ferry get PEER PATH... [--out DIR] [--conflict POLICY] [--sockets N] [--retries N] [--trust DEVICE_ID]... [--home DIR]',
    summary: "fetch files and folders from a peer's shared folder",
    description: [
      "Each PATH of the peer's shared folder lands in DIR (default: the current folder) by its",
      'own name. Files already there with the same size and modification time are skipped.',
    ],
    options: {
      out: { type: 'string', value: 'DIR', help: 'local folder to fetch into (default: the current folder)' },
      ...TRANSFER_OPTIONS,
      help: HELP_OPTION,
    },
    positionals: { min: 2, max: Infinity, missing: 'say which peer to fetch from and which paths' },
    examples: ['ferry get 127.0.0.1:7117 photos', 'ferry get 127.0.0.1:7117 photos/cat.jpg --out ~/Downloads'],
  },
  pair: {
    name: 'pair',
    usage: 'ferry pair PEER [--home DIR]',
    summary: 'pair with a peer: compare a 6-digit code, approve on the peer',
    description: [
      'Connects to PEER and asks it to pair. Prints the name and device ID the peer proved, then',
      '"code: NNNNNN". Compare that code with the one the peer shows (ferry serve in a terminal,',
      'or the app), and approve there. Prints "paired with NAME (ID)" once the peer approved: from',
      'then on each trusts the other. Exit 1 if the peer declined or the pairing failed.',
    ],
    options: { home: HOME_OPTION, help: HELP_OPTION },
    positionals: { min: 1, max: 1, missing: 'say which peer to pair with, as host:port' },
    examples: ['ferry pair 192.168.1.20:7117', 'ferry pair nas.local:7117 --home ~/.config/ferry-work'],
  },
  id: {
    name: 'id',
    usage: 'ferry id [--home DIR]',
    summary: "print this device's ID (made on first run)",
    description: [
      "Prints this device's ID, the fingerprint of its certificate, and nothing else. Give it to",
      'the other device (ferry serve --trust ID, or compare it while pairing). The identity is made',
      'in --home on first run; a damaged one is an error, never silently replaced.',
    ],
    options: { home: HOME_OPTION, help: HELP_OPTION },
    positionals: { min: 0, max: 0, missing: '' },
    examples: ['ferry id', 'ferry id --home /srv/ferry'],
  },
  trust: {
    name: 'trust',
    usage: [
      'ferry trust ls [--json] [--home DIR]',
      '       ferry trust add DEVICE_ID [--name NAME] [--browse on|off] [--send on|off] [--auto-accept on|off]',
      '       ferry trust set DEVICE_ID [--name NAME] [--browse on|off] [--send on|off] [--auto-accept on|off]',
      '       ferry trust rm DEVICE_ID',
    ].join('\n'),
    summary: 'list, add, change and revoke trusted devices',
    description: [
      'The trusted devices of --home, and what each may do: browse (list and get from my shared',
      'folder), send (send files to me), auto-accept (send without asking me). "rm" revokes a',
      'device; a running ferry serve on the same home refuses its next request.',
    ],
    options: {
      json: { type: 'boolean', help: 'ls: print the devices as JSON' },
      name: { type: 'string', value: 'NAME', help: 'add, set: the name to show for the device' },
      ...PERMISSION_OPTIONS,
      home: HOME_OPTION,
      help: HELP_OPTION,
    },
    positionals: { min: 1, max: 2, missing: 'say what to do: ls, add, set or rm' },
    examples: [
      'ferry trust ls',
      'ferry trust set P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2 --auto-accept on',
      'ferry trust rm P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2',
    ],
  },
  ui: {
    name: 'ui',
    usage: 'ferry ui [--home DIR] [--port PORT] [--no-open] [--root DIR] [--downloads DIR] [--serve-port PORT]',
    summary: 'open the desktop UI in a browser tab (for machines without Electron)',
    description: [
      'Starts Ferry with its settings and peers (the same as the desktop app) and serves the UI on',
      '127.0.0.1 only, behind a random token. Prints "ui at URL" (the only address that opens it)',
      'and "listening on HOST:PORT" (where peers reach this device), then opens the browser.',
      'Runs until stopped with Ctrl-C. --root, --downloads and --serve-port change the settings.',
    ],
    options: {
      home: HOME_OPTION,
      port: { type: 'string', value: 'PORT', help: 'port of the UI on 127.0.0.1 (default 0: any free one)' },
      'no-open': { type: 'boolean', help: 'print the address but do not open a browser' },
      root: { type: 'string', value: 'DIR', help: 'the folder to share with peers' },
      downloads: { type: 'string', value: 'DIR', help: 'the folder downloads land in' },
      'serve-port': {
        type: 'string',
        value: 'PORT',
        help: `port peers connect to (default ${DEFAULT_PORT}; 0 picks a free one)`,
      },
      help: HELP_OPTION,
    },
    positionals: { min: 0, max: 0, missing: '' },
    examples: ['ferry ui', 'ferry ui --root ~/Shared --serve-port 7117 --no-open'],
  },
};

export function isCommand(s: string): s is CommandName {
  return Object.hasOwn(COMMANDS, s);
}

/** The top-level help: what Ferry is, the commands, and where to read more. */
export function mainHelp(version: string): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = [
    `ferry ${version}: move files between computers over TCP, verified and resumable`,
    '',
    'Usage: ferry <command> [options]',
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  show the options of a command: ferry help <command>`,
    '',
    'PEER is host:port, e.g. 192.168.1.20:7117, nas.local:7117 or [::1]:7117.',
    '',
    'Every connection is encrypted (TLS 1.3) and authenticated: two devices may list, send or',
    'get only once they trust each other, by pairing (ferry pair) or by ID (--trust, ferry id).',
    'Each device is a home folder with its identity and trusted devices: --home DIR or',
    '$FERRY_HOME, so several devices can run on one machine.',
    '',
    'Examples:',
    '  ferry serve --root ~/Shared                  # on one computer (answer the pairing there)',
    '  ferry pair 192.168.1.20:7117                 # on another: compare the code, approve',
    '  ferry send 192.168.1.20:7117 photos',
    '',
    'Options: -h, --help (this help), --version (print the version)',
  ];
  return lines.join('\n') + '\n';
}

/** Help for one command: usage, what it does, options, examples. */
export function commandHelp(name: CommandName): string {
  const c = COMMANDS[name];
  const flags = Object.entries(c.options).map(([long, o]) => {
    const left = `${o.short ? `-${o.short}, ` : '    '}--${long}${o.value ? ` ${o.value}` : ''}`;
    return [left, o.help] as const;
  });
  const width = Math.max(...flags.map(([l]) => l.length));
  const lines = [
    `Usage: ${c.usage}`,
    '',
    ...c.description,
    '',
    'Options:',
    ...flags.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
  ];
  return lines.join('\n') + '\n';
}

export type OptionValue = string | boolean | (string | boolean)[] | undefined;

export interface ParsedCommand {
  values: Record<string, OptionValue>;
  positionals: string[];
}

/** Parse one command's arguments strictly: unknown options and stray arguments are usage errors. */
export function parseCommand(name: CommandName, argv: string[]): ParsedCommand {
  const spec = COMMANDS[name];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [long, o] of Object.entries(spec.options)) {
    options[long] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed: ParsedCommand;
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    parsed = { values: r.values, positionals: r.positionals };
  } catch (err) {
    throw new UsageError(describeParseError(err, spec), name);
  }
  if (parsed.values.help) return parsed;
  const n = parsed.positionals.length;
  if (n < spec.positionals.min) throw new UsageError(spec.positionals.missing, name);
  if (n > spec.positionals.max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[spec.positionals.max]}"`, name);
  }
  return parsed;
}

/** parseArgs' messages are written for programmers; say the same for a person, in one line. */
function describeParseError(err: unknown, spec: CommandSpec): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag ?? message} for "ferry ${spec.name}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const long = flag?.replace(/^-+/, '');
      const o = long ? Object.entries(spec.options).find(([k, v]) => k === long || v.short === long) : undefined;
      if (o && o[1].type === 'boolean') return `option --${o[0]} takes no value`;
      return o ? `option --${o[0]} needs a value (${o[1].value ?? 'a value'})` : message;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument in "ferry ${spec.name}"`;
    default:
      return message;
  }
}

/** A PEER argument; a malformed one is a usage error (the parser's message says how to write it). */
export function peerArg(s: string, command: CommandName): PeerAddress {
  try {
    return parsePeerAddress(s);
  } catch (err) {
    throw new UsageError(err instanceof FerryError ? lowerFirst(err.message) : String(err), command);
  }
}

/**
 * A path inside the peer's shared folder as typed by a person: trailing slashes (from shell
 * completion) are dropped and "/" or "." mean the top. Nothing else is changed: the peer's path
 * guard judges the rest, so that `../x` is refused by the side that owns the folder.
 */
export function peerPathArg(s: string): string {
  const trimmed = s.replace(/\/+$/, '');
  return trimmed === '' || trimmed === '.' ? '' : trimmed;
}

export function intOption(
  value: OptionValue,
  name: string,
  command: CommandName,
  range: { min: number; max: number; default: number },
): number {
  if (value === undefined) return range.default;
  const text = String(value);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, not "${text}"`, command);
  }
  return n;
}

const POLICIES: readonly ConflictPolicy[] = ['rename', 'overwrite', 'skip'];

export function conflictOption(value: OptionValue, command: CommandName): ConflictPolicy {
  if (value === undefined) return 'rename';
  const text = String(value);
  if (!(POLICIES as readonly string[]).includes(text)) {
    throw new UsageError(`--conflict must be rename, overwrite or skip, not "${text}"`, command);
  }
  return text as ConflictPolicy;
}

export function stringOption(value: OptionValue): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a repeatable string option, in the order given. */
export function listOption(value: OptionValue): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/**
 * The fingerprints named by `--trust DEVICE_ID` options; a malformed ID is a usage error, in
 * the words of parseDeviceId (which says what is wrong: the length, a character, a check).
 */
export function deviceIdsOption(value: OptionValue, command: CommandName): Buffer[] {
  return listOption(value).map((text) => deviceIdArg(text, command));
}

/** One DEVICE_ID argument; a malformed one (a typo fails its check characters) is a usage error. */
export function deviceIdArg(text: string, command: CommandName): Buffer {
  try {
    return parseDeviceId(text);
  } catch (err) {
    throw new UsageError(err instanceof FerryError ? lowerFirst(err.message) : String(err), command);
  }
}

/** `--browse on`: true, false, or undefined when not given; anything else is a usage error. */
export function onOffOption(value: OptionValue, name: string, command: CommandName): boolean | undefined {
  if (value === undefined) return undefined;
  const text = String(value).toLowerCase();
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw new UsageError(`--${name} must be on or off, not "${String(value)}"`, command);
}

export function pairingModeOption(value: OptionValue): PairingMode {
  if (value === undefined) return 'ask';
  const text = String(value);
  if (!(PAIRING_MODES as readonly string[]).includes(text)) {
    throw new UsageError(`--pairing must be ask, stdin or off, not "${text}"`, 'serve');
  }
  return text as PairingMode;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
