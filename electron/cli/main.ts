/**
 * Entry point of the `ferry` command (loaded by electron/cli/ferry.js): picks the command,
 * runs it, and turns every outcome into an exit code and at most one `ferry: ...` line.
 *
 * Exit codes: 0 done, 1 failed, 2 usage error, 130 / 143 stopped by SIGINT / SIGTERM.
 * Never a stack trace: set FERRY_DEBUG=1 to see one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../../shared/errors.js';
import { defaultHome } from '../core/app/settings.js';
import {
  COMMANDS,
  commandHelp,
  conflictOption,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RETRIES,
  deviceIdArg,
  deviceIdsOption,
  intOption,
  isCommand,
  mainHelp,
  onOffOption,
  pairingModeOption,
  type ParsedCommand,
  parseCommand,
  peerArg,
  peerPathArg,
  stringOption,
  UsageError,
} from './args.js';
import { DEFAULT_SOCKETS, MAX_SOCKETS_PER_SESSION } from '../core/protocol/constants.js';
import type { Permissions } from '../core/identity/index.js';
import { openDevice } from './device.js';
import { id } from './id.js';
import { ls } from './ls.js';
import { errorLine } from './output.js';
import { pair } from './pair.js';
import { serve } from './serve.js';
import { checkTrustOptions, trust, type TrustCommand } from './trust.js';
import { ui } from './ui.js';
import { exitCodeForSignal, Interrupted } from './signals.js';
import { runTransfer } from './transfer.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** The version in package.json, found by walking up from this module (src or dist layout). */
function readVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'ferry' && pkg.version) return pkg.version;
    } catch {
      // not here; look one folder up
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/** Run the command line `argv` (without node and the script); resolves with the exit code. */
async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(mainHelp(readVersion()));
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h') {
    process.stdout.write(mainHelp(readVersion()));
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${readVersion()}\n`);
    return 0;
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(mainHelp(readVersion()));
    else if (isCommand(topic)) process.stdout.write(commandHelp(topic));
    else throw new UsageError(`there is no command "${topic}"; the commands are ${Object.keys(COMMANDS).join(', ')}`);
    return 0;
  }
  if (!isCommand(first)) {
    const what = first.startsWith('-') ? `unknown option ${first}` : `there is no command "${first}"`;
    throw new UsageError(`${what}; the commands are ${Object.keys(COMMANDS).join(', ')} (see "ferry --help")`);
  }
  const { values, positionals } = parseCommand(first, rest);
  if (values.help) {
    process.stdout.write(commandHelp(first));
    return 0;
  }
  // This device: --home, else $FERRY_HOME, else the platform's config folder.
  const home = path.resolve(stringOption(values.home) ?? defaultHome());
  switch (first) {
    case 'serve':
      return serve({
        root: stringOption(values.root) ?? process.cwd(),
        host: stringOption(values.host) ?? DEFAULT_HOST,
        port: intOption(values.port, 'port', 'serve', { min: 0, max: 65535, default: DEFAULT_PORT }),
        readOnly: values['read-only'] === true,
        home,
        trust: deviceIdsOption(values.trust, 'serve'),
        acceptUploads: values['accept-uploads'] === true,
        pairing: pairingModeOption(values.pairing),
        announce: onOffOption(values.announce, 'announce', 'serve') ?? true,
      });
    case 'id':
      return id(home);
    case 'pair':
      return pair(peerArg(positionals[0]!, 'pair'), await openDevice(home));
    case 'trust':
      return trust(trustCommand(home, { values, positionals }));
    case 'ui': {
      const root = stringOption(values.root);
      const downloads = stringOption(values.downloads);
      return ui({
        home,
        port: intOption(values.port, 'port', 'ui', { min: 0, max: 65535, default: 0 }),
        open: values['no-open'] !== true,
        ...(root !== undefined ? { sharedFolder: path.resolve(root) } : {}),
        ...(downloads !== undefined ? { downloadFolder: path.resolve(downloads) } : {}),
        ...(values['serve-port'] !== undefined
          ? {
              servePort: intOption(values['serve-port'], 'serve-port', 'ui', {
                min: 0,
                max: 65535,
                default: DEFAULT_PORT,
              }),
            }
          : {}),
      });
    }
    case 'ls': {
      const peer = peerArg(positionals[0]!, 'ls');
      const pinned = deviceIdsOption(values.trust, 'ls');
      return ls({
        peer,
        path: peerPathArg(positionals[1] ?? ''),
        json: values.json === true,
        pinned,
        device: await openDevice(home),
      });
    }
    case 'send':
    case 'get': {
      const peer = peerArg(positionals[0]!, first);
      const common = {
        peer,
        pinned: deviceIdsOption(values.trust, first),
        conflict: conflictOption(values.conflict, first),
        sockets: intOption(values.sockets, 'sockets', first, {
          min: 1,
          max: MAX_SOCKETS_PER_SESSION,
          default: DEFAULT_SOCKETS,
        }),
        retries: intOption(values.retries, 'retries', first, { min: 0, max: 100, default: DEFAULT_RETRIES }),
      };
      // Usage is checked before the identity is opened (or made, on a first run).
      const device = await openDevice(home);
      const to = stringOption(values.to);
      const outDir = stringOption(values.out);
      return first === 'send'
        ? runTransfer({
            kind: 'send',
            paths: positionals.slice(1),
            ...common,
            device,
            ...(to !== undefined ? { to: peerPathArg(to) } : {}),
          })
        : runTransfer({
            kind: 'get',
            paths: positionals.slice(1).map(peerPathArg),
            ...common,
            device,
            ...(outDir ? { out: outDir } : {}),
          });
    }
  }
}

const TRUST_ACTIONS: Record<string, TrustCommand['action']> = {
  ls: 'ls',
  list: 'ls',
  add: 'add',
  set: 'set',
  rm: 'rm',
  remove: 'rm',
};

/** `ferry trust ACTION [DEVICE_ID] [options]`, checked: each action takes its own options. */
function trustCommand(home: string, { values, positionals }: ParsedCommand): TrustCommand {
  const [word, idText] = positionals;
  const action = TRUST_ACTIONS[word!];
  if (!action) throw new UsageError(`"${word}" is not something ferry trust does: use ls, add, set or rm`, 'trust');
  const given = Object.keys(values).filter((k) => k !== 'home' && values[k] !== undefined);
  checkTrustOptions(action, given);
  if (action === 'ls') {
    if (idText !== undefined) throw new UsageError(`unexpected argument "${idText}"`, 'trust');
    return { action, home, json: values.json === true };
  }
  if (idText === undefined)
    throw new UsageError(`say which device to ${action}: ferry trust ${action} DEVICE_ID`, 'trust');
  const fingerprint = deviceIdArg(idText, 'trust');
  if (action === 'rm') return { action, home, fingerprint };
  const permissions: Partial<Permissions> = {};
  const browse = onOffOption(values.browse, 'browse', 'trust');
  const send = onOffOption(values.send, 'send', 'trust');
  const autoAccept = onOffOption(values['auto-accept'], 'auto-accept', 'trust');
  if (browse !== undefined) permissions.browse = browse;
  if (send !== undefined) permissions.send = send;
  if (autoAccept !== undefined) permissions.autoAccept = autoAccept;
  const name = stringOption(values.name);
  if (action === 'set' && name === undefined && Object.keys(permissions).length === 0) {
    throw new UsageError('say what to change: --name, --browse, --send or --auto-accept', 'trust');
  }
  return { action, home, fingerprint, permissions, ...(name !== undefined ? { name } : {}) };
}

/** The exit code for an error, after printing its one line. */
function report(err: unknown): number {
  if (process.env.FERRY_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  if (err instanceof Interrupted) {
    errorLine('cancelled');
    return exitCodeForSignal(err.signal);
  }
  if (err instanceof UsageError) {
    const hint = err.command ? `; see "ferry help ${err.command}"` : '';
    errorLine(`${err.message.replace(/\.$/, '')}${hint}`);
    return EXIT_USAGE;
  }
  if (err instanceof FerryError) {
    errorLine(err.message);
    return EXIT_FAILED;
  }
  errorLine(`internal error: ${err instanceof Error ? err.message : String(err)} (please report this)`);
  return EXIT_FAILED;
}

/** Leave once everything written to stdout and stderr has been handed to the OS. */
async function exit(code: number): Promise<never> {
  const flush = (s: NodeJS.WriteStream): Promise<void> => new Promise((r) => s.write('', () => r()));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

function crash(err: unknown): void {
  void exit(report(err));
}

// `ferry ls PEER | head` closes stdout early: that is not an error worth a word.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

main(process.argv.slice(2)).then(exit, crash);
