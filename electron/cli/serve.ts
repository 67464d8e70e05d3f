/**
 * `ferry serve`: share a folder until SIGINT or SIGTERM. stdout carries exactly one line,
 * `listening on HOST:PORT`, so that scripts and tests can read the port; everything else (the
 * server's warnings, one line per finished transfer) goes to stderr.
 */
import type { TransferSummary } from '../../shared/events.js';
import { FerryServer } from '../core/server.js';
import type { Transfer } from '../core/transfer.js';
import { err, oneLine, out, Tally } from './output.js';
import { untilSignal } from './signals.js';

export interface ServeOptions {
  root: string;
  host: string;
  port: number;
  readOnly: boolean;
}

/** How long a stop may take before the process leaves anyway (connections get 200 ms to say why). */
const STOP_GRACE_MS = 3000;

export async function serve(opts: ServeOptions): Promise<number> {
  const stopped = untilSignal();

  const server = await FerryServer.start({
    root: opts.root,
    host: opts.host,
    port: opts.port,
    readOnly: opts.readOnly,
  });
  server.on('warning', (text) => err(`warning: ${oneLine(text)}`));
  server.on('connectionError', (e) => err(`connection error: ${oneLine(e.message)}`));
  server.on('transfer', (t) => reportWhenDone(t));
  out(`listening on ${server.address().text}`);

  await stopped;
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
  await Promise.race([server.close(), timeout]);
  return 0;
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
