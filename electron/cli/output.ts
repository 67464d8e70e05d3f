/**
 * What the CLI prints: results on stdout, everything about the run (errors, warnings, progress,
 * retries) on stderr, so that `ferry ls PEER --json | jq` sees only results. Text that came from
 * a peer (names, error messages) is made safe for a terminal first: a peer must not be able to
 * move the cursor or forge extra lines.
 */
import type { FileEvent, TransferFileInfo, TransferSummary } from '../../shared/events.js';
import { formatBytes, formatDuration, formatRate } from '../../shared/format.js';
import type { Transfer } from '../core/transfer.js';

export function out(line: string): void {
  process.stdout.write(line + '\n');
}

export function err(line: string): void {
  process.stderr.write(line + '\n');
}

/** The one error line: `ferry: <message>`. */
export function errorLine(message: string): void {
  err(`ferry: ${oneLine(message)}`);
}

/** Control characters (C0, DEL, C1) out: a message or name always prints as one plain line. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

/** A name from a peer, with control characters shown as escapes rather than removed. */
export function safeName(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Local time as `YYYY-MM-DD HH:MM`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '????-??-?? ??:??';
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** `0.04 s`, `12.3 s`, then `01:05` and `1:02:03` as the transfer gets longer. */
export function formatElapsed(seconds: number): string {
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}

const SKIP_WORDS: Record<string, string> = { identical: 'identical', exists: 'already there' };

/**
 * Counts what happened to the files of a transfer from its events. A send or get that reconnects
 * and starts again is one tally over all attempts: a file that landed before the connection
 * dropped shows up as skipped (identical) on the next attempt, and still counts as landed.
 */
export class Tally {
  /** Path -> size of every file that landed, over all attempts. */
  readonly landed = new Map<string, number>();
  /** Path -> reason of the files skipped in the latest attempt. */
  private readonly skipped = new Map<string, string>();
  private sizes = new Map<number, number>();

  attach(t: Transfer): void {
    this.sizes = new Map();
    this.skipped.clear();
    t.on('files', (files: TransferFileInfo[]) => {
      for (const f of files) this.sizes.set(f.index, f.size);
    });
    t.on('file', (e: FileEvent) => {
      if (e.state === 'landed') {
        this.landed.set(e.path, this.sizes.get(e.index) ?? 0);
        this.skipped.delete(e.path);
      } else if (e.state === 'skipped' && !this.landed.has(e.path)) {
        this.skipped.set(e.path, e.reason ?? 'exists');
      }
    });
  }

  get landedBytes(): number {
    let n = 0;
    for (const size of this.landed.values()) n += size;
    return n;
  }

  /** `3 files (5.0 MiB)` */
  filesText(): string {
    return `${plural(this.landed.size, 'file')} (${formatBytes(this.landedBytes)})`;
  }

  /** `; 1 skipped (identical); 2 failed`, or '' when nothing was skipped or failed. */
  extrasText(summary: TransferSummary): string {
    let s = '';
    if (this.skipped.size > 0) {
      const byReason = new Map<string, number>();
      for (const r of this.skipped.values()) {
        const word = SKIP_WORDS[r] ?? oneLine(r);
        byReason.set(word, (byReason.get(word) ?? 0) + 1);
      }
      const reasons =
        byReason.size === 1 ? [...byReason.keys()][0]! : [...byReason].map(([w, n]) => `${n} ${w}`).join(', ');
      s += `; ${this.skipped.size} skipped (${reasons})`;
    }
    if (summary.failures.length > 0) s += `; ${summary.failures.length} failed`;
    return s;
  }
}

/** The line a finished send or get prints on stdout. */
export function transferSummaryLine(
  verb: 'sent' | 'received',
  peer: string,
  tally: Tally,
  summary: TransferSummary,
  seconds: number,
): string {
  const rate = seconds > 0 ? formatRate(tally.landedBytes / seconds) : formatRate(0);
  const dir = verb === 'sent' ? 'to' : 'from';
  return `${verb} ${tally.filesText()} ${dir} ${peer} in ${formatElapsed(seconds)} (${rate})${tally.extrasText(summary)}`;
}
