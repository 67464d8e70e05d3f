/**
 * Command-line grammar: the commands, their options and help texts, and parsing with
 * node:util parseArgs. Every mistake in what the user typed becomes a UsageError (exit code 2)
 * naming the command's help; nothing here touches the network or the disk.
 */
import { parseArgs } from 'node:util';
import { FerryError } from '../../shared/errors.js';
import { parsePeerAddress, type PeerAddress } from '../../shared/peer-address.js';
import type { ConflictPolicy } from '../../shared/types.js';
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

export type CommandName = 'serve' | 'ls' | 'send' | 'get' | 'ui';

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
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

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

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
};

export const COMMANDS: Record<CommandName, CommandSpec> = {
  serve: {
    name: 'serve',
    usage: 'ferry serve [--root DIR] [--host HOST] [--port PORT] [--read-only]',
    summary: 'share a folder so that peers can list it, send to it and get from it',
    description: [
      'Shares DIR until stopped with Ctrl-C. Prints "listening on HOST:PORT" once ready, and one',
      'line per transfer as it ends. Connections are not encrypted or authenticated yet, so the',
      'default is to listen on 127.0.0.1 only; any other --host prints a warning.',
    ],
    options: {
      root: { type: 'string', value: 'DIR', help: 'the folder to share (default: the current folder)' },
      host: { type: 'string', value: 'HOST', help: 'address to listen on (default 127.0.0.1)' },
      port: { type: 'string', value: 'PORT', help: `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)` },
      'read-only': { type: 'boolean', help: 'refuse uploads: peers may only list and get' },
      help: HELP_OPTION,
    },
    positionals: { min: 0, max: 0, missing: '' },
    examples: ['ferry serve --root ~/Shared', 'ferry serve --root ~/Shared --port 7117 --read-only'],
  },
  ls: {
    name: 'ls',
    usage: 'ferry ls PEER [PATH] [--json]',
    summary: "list a folder of a peer's shared folder",
    description: [
      'Lists PATH (default: the top of the shared folder) on PEER: folders first, then files, with',
      'size, modification time and name (folders end with "/").',
    ],
    options: {
      json: { type: 'boolean', help: 'print the entries as JSON (name, kind, size, mtime in ms)' },
      help: HELP_OPTION,
    },
    positionals: { min: 1, max: 2, missing: 'say which peer to list, as host:port' },
    examples: ['ferry ls 127.0.0.1:7117', 'ferry ls 127.0.0.1:7117 photos/2024 --json'],
  },
  send: {
    name: 'send',
    usage: 'ferry send PEER PATH... [--to DIR] [--conflict POLICY] [--sockets N] [--retries N]',
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
    usage: 'ferry get PEER PATH... [--out DIR] [--conflict POLICY] [--sockets N] [--retries N]',
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
      home: {
        type: 'string',
        value: 'DIR',
        help: 'folder for settings (default: $FERRY_HOME, else the usual config folder)',
      },
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
    'PEER is host:port, e.g. 127.0.0.1:7117, nas.local:7117 or [::1]:7117.',
    '',
    'Examples:',
    '  ferry serve --root ~/Shared --port 7117      # in one terminal',
    '  ferry send 127.0.0.1:7117 photos             # in another',
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

export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parse one command's arguments strictly: unknown options and stray arguments are usage errors. */
export function parseCommand(name: CommandName, argv: string[]): ParsedCommand {
  const spec = COMMANDS[name];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [long, o] of Object.entries(spec.options)) {
    options[long] = o.short ? { type: o.type, short: o.short } : { type: o.type };
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
  value: string | boolean | undefined,
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

export function conflictOption(value: string | boolean | undefined, command: CommandName): ConflictPolicy {
  if (value === undefined) return 'rename';
  const text = String(value);
  if (!(POLICIES as readonly string[]).includes(text)) {
    throw new UsageError(`--conflict must be rename, overwrite or skip, not "${text}"`, command);
  }
  return text as ConflictPolicy;
}

export function stringOption(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
