/**
 * `ferry serve`: share a folder until SIGINT or SIGTERM. stdout carries exactly one line,
 * `listening on HOST:PORT`, so that scripts and tests can read the port; everything else (this
 * device's ID and addresses, pairing requests and their questions, uploads waiting for an
 * answer, one line per finished transfer) goes to stderr.
 *
 * Every connection is TLS 1.3 with this device's identity; only trusted devices may list, send
 * or get. Who answers the questions the server asks (pair with this device? accept these
 * files?) depends on where it runs:
 *
 * - stdin is a terminal: a person is there; ask, one question at a time;
 * - otherwise nobody is: decline, and say so in one line. `--accept-uploads` accepts every
 *   upload from a trusted peer instead, and `--pairing stdin` reads the pairing answers from a
 *   pipe (a script that shows the code somewhere and answers). Nothing is ever approved by an
 *   environment variable or by default.
 */
import * as os from 'node:os';
import type { TransferSummary } from '../../shared/events.js';
import { formatBytes } from '../../shared/format.js';
import { formatPeerAddress } from '../../shared/peer-address.js';
import { formatDeviceId } from '../core/identity/index.js';
import { FerryServer, type IncomingPairing, type IncomingUpload } from '../core/server.js';
import type { Session } from '../core/session.js';
import type { Transfer } from '../core/transfer.js';
import type { PairingMode } from './args.js';
import { describePeer, type LocalDevice, openDevice } from './device.js';
import { err, oneLine, out, plural, safeName, Tally } from './output.js';
import { type Answer, Prompter } from './prompt.js';
import { untilSignal } from './signals.js';
import { Discovery } from '../core/discovery.js';
import { PROTOCOL_VERSION } from '../core/protocol/constants.js';

export interface ServeOptions {
  root: string;
  host: string;
  port: number;
  readOnly: boolean;
  home: string;
  /** Fingerprints from `--trust`: added to the trusted devices (default permissions) first. */
  trust: Buffer[];
  /** Accept every upload from a trusted peer without asking. */
  acceptUploads: boolean;
  pairing: PairingMode;
  /** Whether a person can answer on stdin (default: process.stdin.isTTY). */
  interactive?: boolean;
  /** Announce this device on the LAN (discovery.ts); peers find it without typing an address. */
  announce?: boolean;
}

/** How long a stop may take before the process leaves anyway (connections get 200 ms to say why). */
const STOP_GRACE_MS = 3000;
/**
 * An upload nobody answers is declined after this long: the sender is waiting, with its files
 * prepared and its sockets open. The server's default too (electron/core/server.ts).
 */
const UPLOAD_ASK_MS = 60_000;
/** File names shown before the question about an upload. */
const NAMES_SHOWN = 5;

export async function serve(opts: ServeOptions): Promise<number> {
  const stopped = untilSignal();

  const dev = await openDevice(opts.home);
  for (const fp of opts.trust) {
    // Added with no name: the name the device gives in its hello fills it (nameUnnamed). An
    // entry already there keeps its name and permissions.
    if (!dev.trust.get(fp)) dev.trust.add({ fingerprint: fp, name: '' });
  }

  const server = await FerryServer.start({
    root: opts.root,
    host: opts.host,
    port: opts.port,
    readOnly: opts.readOnly,
    identity: { name: dev.name, device: dev.identity.deviceId },
    tls: { identity: dev.identity, trust: dev.trust },
    askTimeoutMs: UPLOAD_ASK_MS,
  });
  const interactive = opts.interactive ?? process.stdin.isTTY === true;
  const prompter = new Prompter(process.stdin, interactive);
  // A pipe is read from now on, a terminal only from the first question (see prompt.ts).
  if (!interactive && opts.pairing === 'stdin') prompter.start();
  server.on('warning', (text) => err(`warning: ${oneLine(text)}`));
  server.on('connectionError', (e) => err(`connection error: ${oneLine(e.message)}`));
  server.on('transfer', (t) => reportWhenDone(t));
  server.on('session', (s) => nameUnnamed(dev, s));
  server.on('pairing', (p) => void onPairing(p, opts.pairing, interactive, prompter));
  server.on('upload', (u) => void onUpload(u, opts.acceptUploads, interactive, prompter));

  const addr = server.address();
  out(`listening on ${addr.text}`);
  err(`this device: ${safeName(dev.name)}, device ID ${dev.identity.deviceId}`);
  const reach = reachableAddresses(addr.host, addr.port);
  if (reach.length > 0) err(`peers on the network connect to ${reach.join(' or ')}`);

  // A hint for peers on the LAN; failing to announce (no multicast here) does not stop serving.
  const discovery = new Discovery({
    port: addr.port,
    name: dev.name,
    deviceId: dev.identity.deviceId,
    protocolVersion: PROTOCOL_VERSION,
    enabled: opts.announce !== false,
  });
  discovery.on('warning', (text) => err(`warning: ${oneLine(text)}`));
  await discovery
    .start()
    .catch((e: unknown) =>
      err(`warning: not announcing on the network (${oneLine(String((e as Error).message ?? e))})`),
    );

  await stopped;
  await discovery.stop().catch(() => undefined);
  prompter.close();
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
  await Promise.race([server.close(), timeout]);
  return 0;
}

/**
 * The addresses other machines can use when listening on a wildcard address (0.0.0.0, ::):
 * the machine's own, not the wildcard the listening line shows.
 */
function reachableAddresses(host: string, port: number): string[] {
  const v4 = host === '0.0.0.0' || host === '::';
  const v6 = host === '::';
  if (!v4) return [];
  const found: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4' || (v6 && a.family === 'IPv6' && !a.address.startsWith('fe80:'))) {
        found.push(formatPeerAddress({ host: a.address, port }));
      }
    }
  }
  return found;
}

/** A device trusted with `--trust` has no name yet: take the one it gives when it connects. */
function nameUnnamed(dev: LocalDevice, s: Session): void {
  const fp = s.peer.fingerprint;
  if (!fp || !s.peer.name) return;
  try {
    const d = dev.trust.get(fp);
    if (d && d.name === '') dev.trust.rename(d.deviceId, s.peer.name);
  } catch (e) {
    err(`warning: cannot save the name of ${formatDeviceId(fp)}: ${oneLine((e as Error).message)}`);
  }
}

/** Why nobody is asked, for the line that says a request was declined. */
function noOneToAsk(mode: PairingMode): string {
  return mode === 'off'
    ? 'pairing is off (--pairing off)'
    : 'nobody to ask (stdin is not a terminal; see --pairing in "ferry help serve")';
}

async function onPairing(
  p: IncomingPairing,
  mode: PairingMode,
  interactive: boolean,
  prompter: Prompter,
): Promise<void> {
  const who = describePeer(p.peer.name, p.peer.deviceId);
  const from = `${who} at ${p.peer.address}`;
  if (mode === 'off' || (mode === 'ask' && !interactive)) {
    p.decline();
    err(`declined a pairing request from ${from}: ${noOneToAsk(mode)}`);
    return;
  }
  let code: string;
  try {
    code = await p.code;
  } catch (e) {
    err(`pairing request from ${from} ended before a code was shown: ${oneLine((e as Error).message)}`);
    return;
  }
  // The question goes away when the pairing ends without us: the peer cancelled, or the
  // responder's own timeout declined it.
  const answer: Answer = await prompter.ask(`Pair with ${who}? Code ${code}. [y/N]`, settled(p.result));
  if (answer === 'yes') {
    try {
      p.approve();
    } catch {
      // the pairing ended while the answer was typed: the result below says how
    }
  } else if (answer === 'no' || answer === 'closed') {
    p.decline();
  }
  let outcome: string;
  try {
    outcome = await p.result;
  } catch (e) {
    err(`pairing with ${from} failed: ${oneLine((e as Error).message)}`);
    return;
  }
  if (outcome === 'accepted') err(`paired with ${who}`);
  else if (answer === 'withdrawn') err(`pairing request from ${from}: no answer in time, declined`);
  else err(`declined pairing with ${who}${answer === 'closed' ? ' (stdin closed)' : ''}`);
}

async function onUpload(
  u: IncomingUpload,
  acceptAll: boolean,
  interactive: boolean,
  prompter: Prompter,
): Promise<void> {
  if (acceptAll) {
    u.accept();
    return;
  }
  const who = describePeer(u.peer.name, u.peer.device);
  const what = `${plural(u.files.length, 'file')} (${formatBytes(u.totalBytes)})`;
  if (!interactive) {
    u.decline();
    err(
      `declined an upload of ${what} from ${who}: nobody to ask (stdin is not a terminal); ` +
        `start ferry serve with --accept-uploads, or let that device send without asking: ferry trust set ${u.peer.device} --auto-accept on`,
    );
    return;
  }
  const names = u.files.slice(0, NAMES_SHOWN).map((f) => safeName(f));
  const more = u.files.length > NAMES_SHOWN ? ` and ${u.files.length - NAMES_SHOWN} more` : '';
  err(`upload from ${who} at ${u.peer.address}: ${names.join(', ')}${more}`);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, UPLOAD_ASK_MS)));
  const answer = await prompter.ask(`Accept ${what} from ${safeName(u.peer.name) || '(unnamed)'}? [y/N]`, expired);
  clearTimeout(timer);
  if (answer === 'yes') {
    u.accept();
    return;
  }
  u.decline();
  if (answer === 'withdrawn') err(`upload from ${who}: no answer in ${UPLOAD_ASK_MS / 1000} s, declined`);
  else err(`declined the upload from ${who}`);
}

/** Settles (never rejects) when `p` does. */
function settled(p: Promise<unknown>): Promise<void> {
  return p.then(
    () => undefined,
    () => undefined,
  );
}

/** One stderr line per transfer a peer started, when it ends. */
function reportWhenDone(t: Transfer): void {
  const tally = new Tally();
  tally.attach(t);
  t.once('end', (summary) => err(serverTransferLine(t, tally, summary)));
}

function serverTransferLine(t: Transfer, tally: Tally, s: TransferSummary): string {
  const peer = t.info.peer;
  const incoming = t.info.direction === 'upload';
  const what = incoming ? `upload from ${peer}` : `download by ${peer}`;
  if (s.state === 'cancelled') return `${what} cancelled (${tally.filesText()} done)`;
  if (s.error) return `${what} failed: ${oneLine(s.error.message)}`;
  const head = incoming ? `received ${tally.filesText()} from ${peer}` : `sent ${tally.filesText()} to ${peer}`;
  const first = s.failures[0];
  const detail = first
    ? ` (${oneLine(first.path)}: ${oneLine(first.error.message)}${s.failures.length > 1 ? ', ...' : ''})`
    : '';
  return `${head}${tally.extrasText(s)}${detail}`;
}
