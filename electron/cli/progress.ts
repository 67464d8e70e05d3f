/**
 * The one-line progress bar of send and get, drawn on stderr only when stderr is a terminal
 * (a log file or a pipe gets no carriage returns, only the summary). Redrawn at most ten times
 * a second: the engine already coalesces progress events, and a terminal gains nothing faster.
 */
import type { TransferProgress } from '../../shared/events.js';
import { formatBytes, formatDuration, formatRate } from '../../shared/format.js';
import type { Transfer } from '../core/transfer.js';
import { oneLine } from './output.js';

const REDRAW_MS = 100;
const BAR_WIDTH = 20;

/** `[########------------]  42%  12.0 MiB / 30.0 MiB  5.0 MiB/s  ETA 00:03` */
export function renderProgress(p: TransferProgress, width = BAR_WIDTH): string {
  // Before the file list is known there is nothing to measure against.
  if (p.bytesTotal === 0 && p.filesTotal === 0 && (p.state === 'queued' || p.state === 'running')) return 'starting...';
  const fraction = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : p.state === 'done' ? 1 : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const stage = p.state === 'verifying' ? '  verifying' : '';
  return `${bar} ${pct}  ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}  ${formatRate(p.bytesPerSecond)}  ETA ${formatDuration(p.etaSeconds)}${stage}`;
}

export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private pending: TransferProgress | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  /** A bar for this transfer when stderr is a terminal, otherwise undefined (quiet). */
  static forTransfer(t: Transfer, label: string): ProgressBar | undefined {
    if (!process.stderr.isTTY) return undefined;
    const bar = new ProgressBar(process.stderr, label);
    t.on('progress', (p) => bar.update(p));
    return bar;
  }

  update(p: TransferProgress): void {
    this.pending = p;
    const wait = REDRAW_MS - (Date.now() - this.lastDraw);
    if (wait <= 0) {
      this.draw();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
    this.timer.unref();
  }

  private draw(): void {
    const p = this.pending;
    if (!p) return;
    this.lastDraw = Date.now();
    const columns = this.stream.columns || 80;
    const body = renderProgress(p);
    const room = columns - body.length - 3;
    let label = oneLine(this.label);
    if (room < 4) label = '';
    else if (label.length > room) label = `${label.slice(0, room - 1)}…`;
    const line = (label ? `${label}  ${body}` : body).slice(0, columns - 1);
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Erase the bar, so that the next line (summary, error, retry notice) starts clean. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
