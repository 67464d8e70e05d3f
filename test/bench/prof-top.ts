/**
 * Summarise a V8 .cpuprofile (node --cpu-prof): self time per function and per source file, so
 * the bench can say where a Ferry process spends its CPU. Also runs on its own:
 *
 *   node dist/test/bench/prof-top.js FILE.cpuprofile [TOP]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A short name for where a function lives: core/receiver.js, node:internal/fs/..., a native module. */
function where(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return url;
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const dist = p.lastIndexOf(`${path.sep}dist${path.sep}`);
  if (dist >= 0) return p.slice(dist + 6);
  const nm = p.lastIndexOf(`node_modules${path.sep}`);
  if (nm >= 0) return p.slice(nm);
  return path.basename(p);
}

export interface ProfileSummary {
  totalMs: number;
  functions: { name: string; ms: number }[];
  files: { name: string; ms: number }[];
}

export function summariseProfile(file: string): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const fnMs = new Map<string, number>();
  const fileMs = new Map<string, number>();
  let total = 0;
  // timeDeltas[i] is the time before sample i; attribute it to the sample's function.
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]!);
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const loc = where(cf.url);
    const fnKey = cf.url ? `${name} ${loc}:${cf.lineNumber + 1}` : name;
    fnMs.set(fnKey, (fnMs.get(fnKey) ?? 0) + dt);
    const fileKey = cf.url
      ? loc.replace(/^node:internal\/.*/, 'node:internal/*')
      : name.startsWith('(')
        ? name
        : '(native)';
    fileMs.set(fileKey, (fileMs.get(fileKey) ?? 0) + dt);
    total += dt;
  }
  const sorted = (m: Map<string, number>): { name: string; ms: number }[] =>
    [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total, functions: sorted(fnMs), files: sorted(fileMs) };
}

/** Lines of text: the top functions and files by self time, with their share of the profile. */
export function formatSummary(s: ProfileSummary, top = 12): string[] {
  const pct = (ms: number): string => `${((100 * ms) / Math.max(1, s.totalMs)).toFixed(1).padStart(5)}%`;
  const lines = [`  profiled ${(s.totalMs / 1000).toFixed(2)} s (idle included)`, '  by function (self time):'];
  for (const f of s.functions.slice(0, top))
    lines.push(`    ${pct(f.ms)} ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`);
  lines.push('  by file (self time):');
  for (const f of s.files.slice(0, Math.ceil(top / 2)))
    lines.push(`    ${pct(f.ms)} ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`);
  return lines;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: prof-top FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  for (const line of formatSummary(summariseProfile(file), Number(process.argv[3] ?? 20))) console.log(line);
}
