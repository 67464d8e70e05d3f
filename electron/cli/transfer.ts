/**
 * `ferry send` and `ferry get`: one transfer, drawn as a progress bar, summed up in one line.
 * When the connection drops (or goes silent) the command reconnects and starts the transfer
 * again, up to --retries times with a doubling pause; the engine resumes from its partial files
 * and journals, so only the blocks that are still missing cross again. Ctrl-C cancels: the peer
 * is told, and partial files are discarded.
 */
import * as fs from 'node:fs';
import { type ErrorCode, FerryError } from '../../shared/errors.js';
import type { TransferSummary } from '../../shared/events.js';
import { formatPeerAddress, type PeerAddress } from '../../shared/peer-address.js';
import type { ConflictPolicy } from '../../shared/types.js';
import type { FerryClient } from '../core/client.js';
import { fsError } from '../core/fs-guard.js';
import type { Transfer } from '../core/transfer.js';
import { connect, explainRefusal, type LocalDevice } from './device.js';
import { err, oneLine, out, Tally, transferSummaryLine } from './output.js';
import { ProgressBar } from './progress.js';
import { Interrupt, Interrupted } from './signals.js';

export interface TransferCommand {
  kind: 'send' | 'get';
  peer: PeerAddress;
  /** Local paths for send, peer paths for get. */
  paths: string[];
  /** send: folder inside the peer's share. */
  to?: string;
  /** get: local folder. */
  out?: string;
  conflict: ConflictPolicy;
  sockets: number;
  retries: number;
  device: LocalDevice;
  /** `--trust`: the devices the peer may be. */
  pinned: Buffer[];
}

/** Failures worth a reconnect: the network, not the request. */
const RETRYABLE = new Set<ErrorCode>(['FERRY_ERR_CONNECTION_LOST', 'FERRY_ERR_TIMEOUT']);
/** 1 s, 2 s, 4 s, ... capped: long enough for a Wi-Fi hand-over, short enough to watch. */
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/**
 * How long a cancel waits for the peer to confirm it has read it. Blocks queued ahead of the
 * cancel (a send window, 8 MiB a socket) must leave first: 2 s covers that at ~30 Mbit/s.
 */
const CANCEL_CONFIRM_MS = 2000;

export function backoffMs(retry: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** retry);
}

export async function runTransfer(cmd: TransferCommand): Promise<number> {
  const peerText = formatPeerAddress(cmd.peer);
  let current: Transfer | undefined;
  const interrupt = new Interrupt(() => current?.cancel());
  try {
    if (cmd.kind === 'send') await checkLocalPaths(cmd.paths);
    // The first connection is not retried: a peer that is not there at all is a plain error.
    const dial = (): Promise<FerryClient> => connect(cmd.device, cmd.peer, cmd.pinned);
    let client: FerryClient | undefined = await interrupt.race(dial());
    const tally = new Tally();
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      let summary: TransferSummary | undefined;
      let failure: FerryError | undefined;
      try {
        client ??= await interrupt.race(dial());
        const t = start(client, cmd);
        tally.attach(t);
        const bar = ProgressBar.forTransfer(t, t.info.label);
        current = t;
        summary = await t.done();
        current = undefined;
        bar?.clear();
        if (summary.error) {
          failure = explainRefusal(new FerryError(summary.error.code, summary.error.message), client, cmd.device);
        }
      } catch (e) {
        if (e instanceof Interrupted) throw e;
        failure = e instanceof FerryError ? e : new FerryError('FERRY_ERR_INTERNAL', String(e), { cause: e });
      }
      if (client) await closeGently(client, interrupt.signal !== undefined);
      client = undefined;
      if (interrupt.signal) throw new Interrupted(interrupt.signal);
      // After the first attempt, a peer that cannot be reached yet may be coming back.
      const retryable =
        failure && (RETRYABLE.has(failure.code) || (attempt > 0 && failure.code === 'FERRY_ERR_UNREACHABLE'));
      if (failure && retryable && attempt < cmd.retries) {
        const wait = backoffMs(attempt);
        const what =
          failure.code === 'FERRY_ERR_UNREACHABLE'
            ? oneLine(failure.message)
            : `lost the connection to ${peerText} (${oneLine(failure.message)})`;
        err(`retry ${attempt + 1} of ${cmd.retries} in ${wait / 1000} s: ${what}`);
        await interrupt.sleep(wait);
        if (interrupt.signal) throw new Interrupted(interrupt.signal);
        continue;
      }
      if (failure) throw failure;
      const s = summary!;
      const seconds = (Date.now() - started) / 1000;
      out(transferSummaryLine(cmd.kind === 'send' ? 'sent' : 'received', peerText, tally, s, seconds));
      for (const f of s.leftOut) err(`left out: ${oneLine(f.path)}: ${oneLine(f.reason)}`);
      for (const f of s.failures) err(`failed: ${oneLine(f.path)}: ${oneLine(f.error.message)}`);
      return s.failures.length > 0 ? 1 : 0;
    }
  } finally {
    interrupt.dispose();
  }
}

function start(client: FerryClient, cmd: TransferCommand): Transfer {
  const common = { conflict: cmd.conflict, sockets: cmd.sockets };
  return cmd.kind === 'send'
    ? client.upload(cmd.paths, { ...common, ...(cmd.to ? { to: cmd.to } : {}) })
    : client.download(cmd.paths, { ...common, out: cmd.out ?? process.cwd() });
}

/** Say which local path is missing before connecting, not after a round trip. */
async function checkLocalPaths(paths: string[]): Promise<void> {
  for (const p of paths) {
    try {
      await fs.promises.stat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new FerryError('FERRY_ERR_NOT_FOUND', `Cannot send "${p}": there is no such file or folder here`);
      }
      throw fsError(e, `reading "${p}"`);
    }
  }
}

/**
 * Close the session. After a cancel, first make sure the peer has read it: a ping sent behind
 * the cancel on the control connection comes back only once the peer has handled the cancel
 * (messages are handled in order). Closing at once could reset the connection (unread data
 * makes the OS send RST) before the peer reads the cancel, and then the peer would keep its
 * partial files for a resume that never comes, instead of discarding them.
 */
async function closeGently(client: FerryClient, afterCancel: boolean): Promise<void> {
  if (afterCancel && !client.session.control.isClosed) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.ping().catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CANCEL_CONFIRM_MS))),
    ]);
    clearTimeout(timer);
  }
  await client.closeGracefully();
}
