/**
 * The bench's printout: a table per case, the ratios against the baselines with the same
 * durability (PASS/FAIL against the targets), and a block of key figures to paste into a note.
 * MB is 10^6 bytes throughout (MB/s and RSS alike).
 */
import type { ProcUsage, Side } from './procs.js';
import type { RunResult } from './runs.js';

export const TARGETS = {
  /** Ferry's 1 GiB MB/s over the raw pipe's, same durability. */
  bigRatio: 0.8,
  /** Ferry's small-file files/s over tar|pipe's, same durability. */
  smallRatio: 0.5,
  /** Ferry's encrypted (TLS) 1 GiB MB/s over its plain one, same run. */
  tlsRatio: 0.7,
  /** Ferry's encrypted 1 GiB MB/s over scp's (aes128-gcm), both synced to disk: at least this many times. */
  tlsVsScp: 2,
  /** Peak RSS of each Ferry process, MB. */
  rssMB: 150,
};

const MB = 1e6;
const KIB_MB = 1024 / MB;

export const mbps = (r: RunResult): number => r.bytes / MB / r.seconds;
export const filesPerSec = (r: RunResult): number => r.files / r.seconds;

function fmt(n: number | undefined, digits = 0, width = 8): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a'.padStart(width);
  return n.toFixed(digits).padStart(width);
}

export function rssMB(p: ProcUsage): number | undefined {
  return p.rssKiB === undefined ? undefined : p.rssKiB * KIB_MB;
}

function sideCpu(r: RunResult, side: Side): number | undefined {
  const ps = r.procs.filter((p) => p.side === side);
  if (ps.length === 0 || ps.some((p) => p.cpuSeconds === undefined)) return undefined;
  return ps.reduce((n, p) => n + p.cpuSeconds!, 0);
}

function sideRss(r: RunResult, side: Side): number | undefined {
  const ps = r.procs.filter((p) => p.side === side && p.name !== 'sync -f' && p.name !== 'sync FILE');
  const v = ps.map(rssMB);
  if (v.length === 0 || v.some((x) => x === undefined)) return undefined;
  return Math.max(...(v as number[]));
}

/** A table of runs; the CPU of a side is the sum of its processes, the RSS their largest. */
export function table(title: string, rows: RunResult[]): string[] {
  const w = Math.max(34, ...rows.map((r) => r.label.length + 1));
  const out = [
    title,
    `${'case'.padEnd(w)}${'MB/s'.padStart(8)}${'files/s'.padStart(9)}${'wall s'.padStart(8)}${'CPU s send/recv'.padStart(17)}${'peak RSS MB send/recv'.padStart(23)}  other runs s`,
  ];
  for (const r of rows) {
    if (!r.ok) {
      out.push(`${r.label.padEnd(w)}  FAILED: ${r.error ?? 'unknown error'}`);
      continue;
    }
    const cpu = `${fmt(sideCpu(r, 'send'), 2, 7)} /${fmt(sideCpu(r, 'recv'), 2, 6)}`;
    const rss = `${fmt(sideRss(r, 'send'), 0, 8)} /${fmt(sideRss(r, 'recv'), 0, 6)}`;
    out.push(
      `${r.label.padEnd(w)}${fmt(mbps(r), 0)}${fmt(r.kind === 'small' ? filesPerSec(r) : undefined, 0, 9)}${fmt(r.seconds, 2)}${cpu.padStart(17)}${rss.padStart(23)}  ${(r.otherSeconds ?? []).map((x) => x.toFixed(2)).join(' ')}`,
    );
  }
  return out;
}

/** One line per run naming each process and what it cost. */
export function breakdown(rows: RunResult[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (!r.ok) continue;
    const parts = r.procs.map(
      (p) =>
        `${p.side} ${p.name} ${fmt(p.cpuSeconds, 2, 0)} s ${fmt(rssMB(p), 0, 0)} MB${p.minorFaults === undefined ? '' : ` ${(p.minorFaults / 1000).toFixed(0)}k flt`}`,
    );
    out.push(`  ${r.label}${r.note ? ` [${r.note}]` : ''}: ${parts.join(' | ')}`);
  }
  return out;
}

export interface Verdict {
  line: string;
  pass: boolean | undefined;
}

export const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : 'n/a');

/** A ratio as a percentage (0.78 -> "78%") or, for "times as fast" targets, a factor ("2.31x"). */
export type RatioStyle = 'pct' | 'times';
export const fmtRatio = (x: number, style: RatioStyle = 'pct'): string =>
  style === 'pct' ? pct(x) : Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a';

/** "Ferry X vs base Y = Z%", with PASS/FAIL when a target is given. */
export function compare(
  what: string,
  ferry: RunResult | undefined,
  base: RunResult | undefined,
  metric: (r: RunResult) => number,
  unit: string,
  target?: number,
  style: RatioStyle = 'pct',
): Verdict {
  if (!ferry?.ok || !base?.ok) {
    return {
      line: `${what}: n/a (${!ferry?.ok ? (ferry?.label ?? 'Ferry run') : (base?.label ?? 'baseline')} did not complete)`,
      pass: target === undefined ? undefined : false,
    };
  }
  const ratio = metric(ferry) / metric(base);
  const verdict =
    target === undefined ? '' : `  target >= ${fmtRatio(target, style)}: ${ratio >= target ? 'PASS' : 'FAIL'}`;
  return {
    line: `${what}: ${ferry.label.trim()} ${metric(ferry).toFixed(0)} vs ${base.label.trim()} ${metric(base).toFixed(0)} ${unit} = ${fmtRatio(ratio, style)}${verdict}`,
    pass: target === undefined ? undefined : ratio >= target,
  };
}

/** Largest peak RSS of a named process over the runs, MB, and the run it happened in. */
export function peakRss(rows: RunResult[], name: string): { mb: number; label: string } | undefined {
  let max: { mb: number; label: string } | undefined;
  for (const r of rows) {
    for (const p of r.procs) {
      const v = p.name === name ? rssMB(p) : undefined;
      if (v !== undefined && (max === undefined || v > max.mb)) max = { mb: v, label: r.label };
    }
  }
  return max;
}

export function cpuOf(r: RunResult | undefined, side: Side): string {
  return r?.ok ? fmt(sideCpu(r, side), 2, 0) : 'n/a';
}
