/**
 * `npm run bench`: Ferry against a raw socket pipe (and socat, and tar through a pipe) between
 * two separate processes on 127.0.0.1, from sources on tmpfs to a fresh folder on the real disk.
 * It prints ratios, never asserts on times: this machine is shared and noisy.
 *
 * Ferry runs twice over: plain TCP (no `tls` option, the engine alone) and encrypted (TLS 1.3,
 * two homes with their own identities that trust each other, the sender pinning the server),
 * in the same rounds, so the encrypted / plain ratio compares like with like. scp with
 * aes128-gcm, to a throwaway sshd on 127.0.0.1 (ssh.ts), is the encrypted baseline when
 * sshd and scp are installed.
 *
 * Each baseline runs twice, as is and "+ fsync", because Ferry syncs every file before it takes
 * its final name; the targets compare against the baseline with the same durability. One more
 * pair of runs lands on /dev/shm, where a sync costs nothing, to show the protocol's own cost.
 *
 * Environment:
 *   FERRY_BENCH_SIZE_MB   size of the big file in MiB (default 1024)
 *   FERRY_BENCH_FILES     number of 4 KiB files (default 10000)
 *   FERRY_BENCH_SOCKETS   sockets Ferry stripes over (default: the engine's DEFAULT_SOCKETS)
 *   FERRY_BENCH_SWEEP=1   also run Ferry's big file at 1, 2 and 4 sockets
 *   FERRY_BENCH_PROF=1    run the Ferry children under --cpu-prof and summarise where CPU goes
 *                         (FERRY_BENCH_PROF_DIR=dir keeps the .cpuprofile files there)
 *   FERRY_BENCH_REPEAT    runs of each row, the best one reported (default 3)
 *   FERRY_BENCH_ONLY=big|small   run one case only
 */
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOrCreateIdentity, TrustStore } from '../../electron/core/identity/index.js';
import { DEFAULT_SOCKETS } from '../../electron/core/protocol/constants.js';
import { errorText } from './ipc.js';
import { formatSummary, summariseProfile } from './prof-top.js';
import { hasGnuTime, killAll, which } from './procs.js';
import {
  breakdown,
  compare,
  cpuOf,
  filesPerSec,
  fmtRatio,
  mbps,
  peakRss,
  pct,
  table,
  TARGETS,
  type Verdict,
} from './report.js';
import {
  type Ctx,
  detectNc,
  type FerryTls,
  liveDests,
  runFerry,
  runRawFile,
  runScp,
  runSocatFile,
  runTarPipe,
  settleDisk,
  type RunResult,
  type RunSpec,
} from './runs.js';
import { detectSsh, SshLab } from './ssh.js';

const MiB = 1024 * 1024;
const SMALL_SIZE = 4096;
const SMALL_PER_DIR = 100;

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

const cleanups: (() => void)[] = [];
function cleanup(): void {
  killAll();
  for (const dir of liveDests) fs.rmSync(dir, { recursive: true, force: true });
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch {
      // best effort: keep cleaning the rest
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
    cleanup();
    process.exit(130);
  });
}

/** A temp folder removed at the end whatever happens (recorded before anything is written). */
function tempDir(base: string, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(base, prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** The big random file, written once to tmpfs in 8 MiB chunks. */
function makeBigFile(file: string, bytes: number): void {
  const chunk = Buffer.allocUnsafe(8 * MiB);
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < bytes;) {
      const n = Math.min(chunk.length, bytes - done);
      randomFillSync(chunk, 0, n);
      fs.writeSync(fd, chunk, 0, n);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** `count` random 4 KiB files, SMALL_PER_DIR to a folder. */
function makeSmallFiles(dir: string, count: number): void {
  const data = randomFillSync(Buffer.allocUnsafe(count * SMALL_SIZE));
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / SMALL_PER_DIR)).padStart(3, '0')}`);
    if (i % SMALL_PER_DIR === 0) fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(
      path.join(sub, `f${String(i).padStart(5, '0')}.bin`),
      data.subarray(i * SMALL_SIZE, (i + 1) * SMALL_SIZE),
    );
  }
}

/**
 * The scp run with the time of a bare `ssh true` taken off, to show what its data rate is once
 * connected (Ferry's clock starts after its connection and handshake). Printed for scale only:
 * the target compares with scp as a user meets it, login included.
 */
function scpWithoutLogin(r: RunResult | undefined, lab: SshLab): RunResult | undefined {
  if (!r?.ok || lab.loginSeconds <= 0 || lab.loginSeconds >= r.seconds) return undefined;
  return { ...r, label: 'scp without login', seconds: r.seconds - lab.loginSeconds };
}

function progress(text: string): void {
  process.stderr.write(text);
}

/**
 * Two Ferry homes under `base`, each with its own identity, each trusting the other with browse,
 * send and "send without asking" (so an upload never waits for a person): the encrypted runs.
 */
async function makeTlsHomes(base: string): Promise<FerryTls> {
  const serveHome = path.join(base, 'serve');
  const sendHome = path.join(base, 'send');
  const [serve, send] = await Promise.all([loadOrCreateIdentity(serveHome), loadOrCreateIdentity(sendHome)]);
  const permissions = { browse: true, send: true, autoAccept: true };
  TrustStore.load(serveHome).add({ fingerprint: send.fingerprint, name: 'ferry-send', permissions });
  TrustStore.load(sendHome).add({ fingerprint: serve.fingerprint, name: 'ferry-serve', permissions });
  return { serveHome, sendHome, serveFingerprint: serve.fingerprint.toString('hex') };
}

async function main(): Promise<number> {
  const started = performance.now();
  const bigMiB = envInt('FERRY_BENCH_SIZE_MB', 1024, 1);
  const smallFiles = envInt('FERRY_BENCH_FILES', 10_000, 1);
  const sockets = envInt('FERRY_BENCH_SOCKETS', DEFAULT_SOCKETS, 1);
  const socketsSource = process.env.FERRY_BENCH_SOCKETS ? 'FERRY_BENCH_SOCKETS' : 'engine DEFAULT_SOCKETS';
  const sweep = process.env.FERRY_BENCH_SWEEP === '1';
  const only = process.env.FERRY_BENCH_ONLY;
  const doBig = only !== 'small';
  const doSmall = only !== 'big';
  const bigBytes = bigMiB * MiB;
  const shm = '/dev/shm';
  const disk = os.tmpdir();

  if (!fs.existsSync(shm))
    throw new Error('/dev/shm is missing: the sources live on tmpfs so that reading them costs no disk time');
  const needShm = (doBig ? bigBytes * 2 : 0) + (doSmall ? smallFiles * SMALL_SIZE * 3 : 0) + 64 * MiB;
  if (freeBytes(shm) < needShm)
    throw new Error(
      `/dev/shm has ${(freeBytes(shm) / MiB).toFixed(0)} MiB free; this bench needs ${(needShm / MiB).toFixed(0)} MiB (shrink FERRY_BENCH_SIZE_MB)`,
    );
  if (freeBytes(disk) < bigBytes + 256 * MiB)
    throw new Error(`${disk} lacks ${(bigBytes / MiB).toFixed(0)} MiB free for the destination`);

  const root = tempDir(shm, 'ferry-bench-');
  const work = path.join(root, 'work');
  const srcDir = path.join(root, 'src');
  fs.mkdirSync(work);
  fs.mkdirSync(srcDir);
  const tlsHomes = await makeTlsHomes(path.join(root, 'homes'));
  const bigFile = path.join(srcDir, 'big.bin');
  const smallDir = path.join(srcDir, 'small');

  let profDir: string | undefined;
  if (process.env.FERRY_BENCH_PROF === '1') {
    profDir = process.env.FERRY_BENCH_PROF_DIR
      ? path.resolve(process.env.FERRY_BENCH_PROF_DIR)
      : tempDir(disk, 'ferry-bench-prof-');
    fs.mkdirSync(profDir, { recursive: true });
  }
  const ctx: Ctx = {
    work,
    bigFile,
    bigBytes,
    smallDir,
    smallFiles,
    smallBytes: smallFiles * SMALL_SIZE,
    bases: { disk, shm },
    ferryExecArgv: (name, key) =>
      profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${key}.${name}.cpuprofile`] : [],
  };

  progress(`bench: generating sources in ${root} ... `);
  const g0 = performance.now();
  if (doBig) makeBigFile(bigFile, bigBytes);
  if (doSmall) makeSmallFiles(smallDir, smallFiles);
  // The sources are on tmpfs, so they are in memory from the start: no cold read in any run.
  // Start from a quiet disk: flush whatever is pending before the first run.
  await settleDisk(disk);
  progress(`${((performance.now() - g0) / 1000).toFixed(1)} s\n`);

  const socat = which('socat');
  const nc = doSmall ? await detectNc() : {};
  const notes: string[] = [];
  if (!socat) notes.push('socat is not on PATH: its rows are skipped (apt-get install socat to add them).');
  if (doSmall && !nc.flavour)
    notes.push(`${nc.note ?? 'no nc'}: tar is piped through the raw node pipe (raw-send/raw-recv).`);
  if (!hasGnuTime)
    notes.push('/usr/bin/time (GNU time) is missing: CPU and RSS of tar, socat, nc, scp and sshd show n/a.');
  let ssh: SshLab | undefined;
  if (doBig) {
    const found = detectSsh();
    if (found.note) notes.push(found.note);
    if (found.tools) {
      progress('bench: starting a throwaway sshd for the scp baseline ... ');
      const dir = path.join(root, 'ssh');
      fs.mkdirSync(dir);
      try {
        const lab = await SshLab.prepare(found.tools, dir);
        const loginSeconds = lab.loginSeconds;
        ssh = lab;
        cleanups.push(() => lab.cleanup());
        notes.push(
          `scp (SFTP, -c ${lab.cipher}) goes to a throwaway sshd on 127.0.0.1 as ${lab.user}; its time includes the ssh connection and login (a bare \`ssh true\` took ${loginSeconds.toFixed(2)} s), Ferry's excludes its connection and TLS handshake.`,
        );
        progress(`ok (ssh true ${loginSeconds.toFixed(2)} s)\n`);
      } catch (err) {
        notes.push(`scp baseline skipped: the throwaway sshd did not work here: ${errorText(err)}`);
        progress(`failed: ${errorText(err)}\n`);
      }
    }
  }

  const repeat = envInt('FERRY_BENCH_REPEAT', 3, 1);
  const spec = (
    key: string,
    label: string,
    kind: RunSpec['kind'],
    target: RunSpec['target'],
    sync: boolean,
  ): RunSpec => ({
    key,
    label,
    kind,
    target,
    sync,
  });
  const ferry =
    (n = sockets, tls?: FerryTls) =>
    (s: RunSpec): Promise<RunResult> =>
      runFerry(ctx, s, n, tls);
  const raw = (s: RunSpec): Promise<RunResult> => runRawFile(ctx, s);
  const tar = (s: RunSpec): Promise<RunResult> => runTarPipe(ctx, s, nc.flavour);
  const bigName = bigMiB === 1024 ? '1 GiB' : `${bigMiB} MiB`;
  const pipeName = nc.flavour ? nc.flavour.name : 'node pipe';

  // The plan alternates baselines and Ferry; each round runs all of it, so that every row's
  // runs are spread over the whole bench, and the best run of each row is reported.
  const plan: { name: string; spec: RunSpec; fn: (s: RunSpec) => Promise<RunResult> }[] = [];
  if (doBig) {
    plan.push({ name: 'rawDisk', spec: spec('big-raw-disk', 'raw node pipe -> disk', 'big', 'disk', false), fn: raw });
    plan.push({
      name: 'rawDiskSync',
      spec: spec('big-raw-disk-fsync', 'raw node pipe -> disk + fsync', 'big', 'disk', true),
      fn: raw,
    });
    plan.push({
      name: 'ferryDisk',
      spec: spec('big-ferry-disk', 'Ferry -> disk (fsync per file)', 'big', 'disk', true),
      fn: ferry(),
    });
    plan.push({
      name: 'ferryTlsDisk',
      spec: spec('big-ferry-tls-disk', 'Ferry TLS -> disk (fsync per file)', 'big', 'disk', true),
      fn: ferry(sockets, tlsHomes),
    });
    if (ssh) {
      const lab = ssh;
      plan.push({
        name: 'scpDiskSync',
        spec: spec('big-scp-disk-fsync', 'scp aes128-gcm -> disk + fsync', 'big', 'disk', true),
        fn: (s) => runScp(ctx, s, lab),
      });
    }
    if (socat) {
      const fn = (s: RunSpec): Promise<RunResult> => runSocatFile(ctx, s, socat);
      plan.push({
        name: 'socatDisk',
        spec: spec('big-socat-disk', 'socat -b 1 MiB -> disk', 'big', 'disk', false),
        fn,
      });
      plan.push({
        name: 'socatDiskSync',
        spec: spec('big-socat-disk-fsync', 'socat -b 1 MiB -> disk + fsync', 'big', 'disk', true),
        fn,
      });
    }
    plan.push({ name: 'rawShm', spec: spec('big-raw-shm', 'raw node pipe -> /dev/shm', 'big', 'shm', false), fn: raw });
    plan.push({ name: 'ferryShm', spec: spec('big-ferry-shm', 'Ferry -> /dev/shm', 'big', 'shm', true), fn: ferry() });
    plan.push({
      name: 'ferryTlsShm',
      spec: spec('big-ferry-tls-shm', 'Ferry TLS -> /dev/shm', 'big', 'shm', true),
      fn: ferry(sockets, tlsHomes),
    });
  }
  if (doSmall) {
    plan.push({
      name: 'tarDisk',
      spec: spec('small-tar-disk', `tar | ${pipeName} | tar -> disk`, 'small', 'disk', false),
      fn: tar,
    });
    plan.push({
      name: 'tarDiskSync',
      spec: spec('small-tar-disk-sync', `tar | ${pipeName} | tar -> disk + sync -f`, 'small', 'disk', true),
      fn: tar,
    });
    plan.push({
      name: 'ferrySmallDisk',
      spec: spec('small-ferry-disk', 'Ferry -> disk (fsync per file)', 'small', 'disk', true),
      fn: ferry(),
    });
    plan.push({
      name: 'ferryTlsSmallDisk',
      spec: spec('small-ferry-tls-disk', 'Ferry TLS -> disk (fsync per file)', 'small', 'disk', true),
      fn: ferry(sockets, tlsHomes),
    });
    plan.push({
      name: 'tarShm',
      spec: spec('small-tar-shm', `tar | ${pipeName} | tar -> /dev/shm`, 'small', 'shm', false),
      fn: tar,
    });
    plan.push({
      name: 'ferrySmallShm',
      spec: spec('small-ferry-shm', 'Ferry -> /dev/shm', 'small', 'shm', true),
      fn: ferry(),
    });
    plan.push({
      name: 'ferryTlsSmallShm',
      spec: spec('small-ferry-tls-shm', 'Ferry TLS -> /dev/shm', 'small', 'shm', true),
      fn: ferry(sockets, tlsHomes),
    });
  }
  if (sweep && doBig) {
    for (const target of ['disk', 'shm'] as const) {
      for (const n of [1, 2, 4]) {
        const where = target === 'disk' ? 'disk' : '/dev/shm';
        const label = `Ferry -> ${where}, ${n} socket${n > 1 ? 's' : ''}`;
        plan.push({
          name: `sweep-${target}-${n}`,
          spec: spec(`sweep-${target}-s${n}`, label, 'big', target, true),
          fn: ferry(n),
        });
      }
    }
  }

  // Untimed warm-up: the first large write after a pause is much slower on this kind of VM disk
  // (measured: 1 GiB + fsync 3.4 s cold, 1.0 s right after), and the first node children pay
  // for loading; one throw-away run of each baseline takes both out of the figures.
  progress('bench: warm-up (untimed) ... ');
  const w0 = performance.now();
  if (doBig) {
    await raw(spec('warm-big-disk', 'warm-up', 'big', 'disk', true));
    await raw(spec('warm-big-shm', 'warm-up', 'big', 'shm', false));
  }
  if (doSmall) await tar(spec('warm-small-disk', 'warm-up', 'small', 'disk', true));
  progress(`${((performance.now() - w0) / 1000).toFixed(1)} s\n`);

  const runsOf = new Map<string, RunResult[]>();
  const all: RunResult[] = [];
  for (let round = 1; round <= repeat; round++) {
    for (const item of plan) {
      progress(`bench: [${round}/${repeat}] ${item.spec.label} ... `);
      const r = await item.fn(item.spec);
      progress(r.ok ? `${r.seconds.toFixed(2)} s\n` : `FAILED: ${r.error}\n`);
      all.push(r);
      runsOf.set(item.name, [...(runsOf.get(item.name) ?? []), r]);
    }
  }
  /** The best (fastest) run of a row, with the other runs' times kept for the printout. */
  const best = (name: string): RunResult | undefined => {
    const rs = runsOf.get(name);
    if (!rs) return undefined;
    const ok = rs.filter((r) => r.ok).sort((a, b) => a.seconds - b.seconds);
    if (ok.length < rs.length) return rs.find((r) => !r.ok);
    return { ...ok[0]!, otherSeconds: ok.slice(1).map((r) => r.seconds) };
  };
  const R: Record<string, RunResult | undefined> = {};
  for (const item of plan) R[item.name] = best(item.name);
  const results = plan.map((item) => R[item.name]!);

  // ---- report ----
  const out: string[] = [];
  const line = (s = ''): void => void out.push(s);
  const bigRows = results.filter((r) => r.kind === 'big' && !r.key.startsWith('sweep'));
  const sweepRows = results.filter((r) => r.key.startsWith('sweep'));
  const smallRows = results.filter((r) => r.kind === 'small');
  line();
  line('=== Ferry bench ===');
  line(
    `node ${process.version}, ${os.type()} ${os.release()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
  );
  line(`sources on tmpfs (${root}); disk destinations under ${disk}, tmpfs destinations under ${shm}`);
  line(
    `Ferry sockets: ${sockets} (${socketsSource}); MB = 10^6 bytes; CPU = user+sys of each process (resourceUsage, or GNU time for tools)`,
  );
  for (const n of notes) line(`note: ${n}`);
  if (doBig) {
    line();
    out.push(...table(`A. one ${bigName} random file`, bigRows));
  }
  if (doSmall) {
    line();
    out.push(...table(`B. ${smallFiles} files of 4 KiB (${(ctx.smallBytes / 1e6).toFixed(1)} MB)`, smallRows));
  }
  if (sweepRows.length > 0) {
    line();
    out.push(...table(`Sweep: Ferry ${bigName} by sockets`, sweepRows));
  }
  line();
  line('Processes (side, name, CPU s, peak RSS MB, minor page faults of node children):');
  out.push(...breakdown([...bigRows, ...smallRows, ...sweepRows]));

  const v: Record<string, Verdict | undefined> = {};
  line();
  line('Ratios (headline: same durability as Ferry, i.e. the "+ fsync" baseline):');
  if (doBig) {
    v.big = compare(`${bigName} -> disk, vs + fsync`, R.ferryDisk, R.rawDiskSync, mbps, 'MB/s', TARGETS.bigRatio);
    line(`  ${v.big.line}`);
    line(`  ${compare(`${bigName} -> disk, vs no sync`, R.ferryDisk, R.rawDisk, mbps, 'MB/s').line}`);
    if (R.socatDiskSync)
      line(`  ${compare(`${bigName} -> disk, vs socat + fsync`, R.ferryDisk, R.socatDiskSync, mbps, 'MB/s').line}`);
    line(`  ${compare(`${bigName} -> tmpfs (protocol only)`, R.ferryShm, R.rawShm, mbps, 'MB/s').line}`);
  }
  if (doSmall) {
    v.small = compare(
      `${smallFiles} x 4 KiB -> disk, vs + sync -f`,
      R.ferrySmallDisk,
      R.tarDiskSync,
      filesPerSec,
      'files/s',
      TARGETS.smallRatio,
    );
    line(`  ${v.small.line}`);
    line(
      `  ${compare(`${smallFiles} x 4 KiB -> disk, vs no sync`, R.ferrySmallDisk, R.tarDisk, filesPerSec, 'files/s').line}`,
    );
    line(
      `  ${compare(`${smallFiles} x 4 KiB -> tmpfs (protocol only)`, R.ferrySmallShm, R.tarShm, filesPerSec, 'files/s').line}`,
    );
  }
  line();
  line('Encrypted (TLS 1.3, AES-128-GCM) against plain Ferry in the same run, and against scp:');
  if (doBig) {
    v.tls = compare(`${bigName} -> disk, TLS / plain`, R.ferryTlsDisk, R.ferryDisk, mbps, 'MB/s', TARGETS.tlsRatio);
    line(`  ${v.tls.line}`);
    line(`  ${compare(`${bigName} -> tmpfs, TLS / plain`, R.ferryTlsShm, R.ferryShm, mbps, 'MB/s').line}`);
    line(
      `  ${compare(`${bigName} -> disk, TLS / raw pipe + fsync`, R.ferryTlsDisk, R.rawDiskSync, mbps, 'MB/s').line}`,
    );
    if (ssh) {
      v.scp = compare(
        `${bigName} -> disk, TLS / scp`,
        R.ferryTlsDisk,
        R.scpDiskSync,
        mbps,
        'MB/s',
        TARGETS.tlsVsScp,
        'times',
      );
      line(`  ${v.scp.line}`);
      const scpNet = scpWithoutLogin(R.scpDiskSync, ssh);
      if (scpNet)
        line(
          `  ${compare(`${bigName} -> disk, TLS / scp less its ${ssh.loginSeconds.toFixed(2)} s login (for scale)`, R.ferryTlsDisk, scpNet, mbps, 'MB/s', undefined, 'times').line}`,
        );
      line(
        `  ${compare(`${bigName} -> disk, plain / scp`, R.ferryDisk, R.scpDiskSync, mbps, 'MB/s', undefined, 'times').line}`,
      );
    } else {
      v.scp = {
        line: `${bigName} -> disk, TLS / scp: n/a (scp baseline skipped, see the notes above)`,
        pass: undefined,
      };
      line(`  ${v.scp.line}`);
    }
  }
  if (doSmall) {
    line(
      `  ${compare(`${smallFiles} x 4 KiB -> tmpfs, TLS / plain`, R.ferryTlsSmallShm, R.ferrySmallShm, filesPerSec, 'files/s').line}`,
    );
    line(
      `  ${compare(`${smallFiles} x 4 KiB -> disk, TLS / plain`, R.ferryTlsSmallDisk, R.ferrySmallDisk, filesPerSec, 'files/s').line}`,
    );
  }
  const allRows = all;
  for (const name of ['ferry-serve', 'ferry-send']) {
    const peak = peakRss(allRows, name);
    const pass = peak !== undefined && peak.mb < TARGETS.rssMB;
    const verdict = {
      line: `peak RSS of ${name} over all ${all.filter((r) => r.procs.some((p) => p.name === name)).length} of its runs: ${peak === undefined ? 'n/a' : `${peak.mb.toFixed(0)} MB (in "${peak.label}")`}  target < ${TARGETS.rssMB} MB: ${pass ? 'PASS' : 'FAIL'}`,
      pass,
    };
    v[name] = verdict;
    line(`  ${verdict.line}`);
  }

  if (profDir) {
    line();
    line(`CPU profiles (node --cpu-prof) in ${profDir}:`);
    line(
      '  Read TLS rows with care: these are wall-clock samples of the main thread, and decryption runs in C++ straight from the event loop, so it shows as "(idle)", while encryption shows inside "writev". For the native side: perf record -a -g (the CPU s columns above are the honest totals).',
    );
    for (const f of fs
      .readdirSync(profDir)
      .filter((x) => x.endsWith('.cpuprofile'))
      .sort()) {
      line(`${f}:`);
      try {
        out.push(...formatSummary(summariseProfile(path.join(profDir, f)), 10));
      } catch (err) {
        line(`  unreadable: ${errorText(err)}`);
      }
    }
  }

  // ---- the block to paste into a note ----
  const fmtRate = (r: RunResult | undefined, f: (x: RunResult) => number, unit: string): string =>
    r?.ok ? `${f(r).toFixed(0)} ${unit}` : 'n/a';
  const ratio = (
    a: RunResult | undefined,
    b: RunResult | undefined,
    f: (x: RunResult) => number,
    style: 'pct' | 'times' = 'pct',
  ): string => (a?.ok && b?.ok ? fmtRatio(f(a) / f(b), style) : 'n/a');
  const mark = (x: Verdict | undefined): string => (x?.pass === undefined ? '' : x.pass ? ' PASS' : ' FAIL');
  line();
  line('--- key figures (paste into a note) ---');
  line(
    `Ferry bench ${new Date().toISOString().slice(0, 10)}: node ${process.version}, ${os.cpus().length} cores, loopback, src tmpfs -> dest ${disk} (disk) / ${shm}; sockets ${sockets}`,
  );
  if (doBig) {
    line(
      `${bigName}: Ferry ${fmtRate(R.ferryDisk, mbps, 'MB/s')} (CPU send ${cpuOf(R.ferryDisk, 'send')} s, recv ${cpuOf(R.ferryDisk, 'recv')} s) | raw pipe + fsync ${fmtRate(R.rawDiskSync, mbps, 'MB/s')} -> ${ratio(R.ferryDisk, R.rawDiskSync, mbps)} (target >= ${pct(TARGETS.bigRatio)}${mark(v.big)}) | raw no sync ${fmtRate(R.rawDisk, mbps, 'MB/s')} -> ${ratio(R.ferryDisk, R.rawDisk, mbps)}${R.socatDiskSync ? ` | socat + fsync ${fmtRate(R.socatDiskSync, mbps, 'MB/s')}` : ''}`,
    );
    line(
      `${bigName} on tmpfs: Ferry ${fmtRate(R.ferryShm, mbps, 'MB/s')} vs raw pipe ${fmtRate(R.rawShm, mbps, 'MB/s')} -> ${ratio(R.ferryShm, R.rawShm, mbps)}`,
    );
    line(
      `${bigName} encrypted: Ferry TLS ${fmtRate(R.ferryTlsDisk, mbps, 'MB/s')} (CPU send ${cpuOf(R.ferryTlsDisk, 'send')} s, recv ${cpuOf(R.ferryTlsDisk, 'recv')} s) vs plain ${fmtRate(R.ferryDisk, mbps, 'MB/s')} -> ${ratio(R.ferryTlsDisk, R.ferryDisk, mbps)} (target >= ${pct(TARGETS.tlsRatio)}${mark(v.tls)}) | on tmpfs ${fmtRate(R.ferryTlsShm, mbps, 'MB/s')} vs ${fmtRate(R.ferryShm, mbps, 'MB/s')} -> ${ratio(R.ferryTlsShm, R.ferryShm, mbps)}`,
    );
    line(
      ssh
        ? `${bigName} vs scp: scp -c ${ssh.cipher} + fsync ${fmtRate(R.scpDiskSync, mbps, 'MB/s')} incl. its ${ssh.loginSeconds.toFixed(2)} s login (${fmtRate(scpWithoutLogin(R.scpDiskSync, ssh), mbps, 'MB/s')} without) (CPU send ${cpuOf(R.scpDiskSync, 'send')} s, recv ${cpuOf(R.scpDiskSync, 'recv')} s) | Ferry TLS -> ${ratio(R.ferryTlsDisk, R.scpDiskSync, mbps, 'times')} (target >= ${fmtRatio(TARGETS.tlsVsScp, 'times')}${mark(v.scp)}) | plain Ferry -> ${ratio(R.ferryDisk, R.scpDiskSync, mbps, 'times')}`
        : `${bigName} vs scp: n/a (${notes.find((n) => n.startsWith('scp baseline skipped')) ?? 'scp baseline skipped'})`,
    );
  }
  if (doSmall) {
    line(
      `${smallFiles} x 4 KiB: Ferry ${fmtRate(R.ferrySmallDisk, filesPerSec, 'files/s')} (CPU send ${cpuOf(R.ferrySmallDisk, 'send')} s, recv ${cpuOf(R.ferrySmallDisk, 'recv')} s) | tar|${pipeName}|tar + sync -f ${fmtRate(R.tarDiskSync, filesPerSec, 'files/s')} -> ${ratio(R.ferrySmallDisk, R.tarDiskSync, filesPerSec)} (target >= ${pct(TARGETS.smallRatio)}${mark(v.small)}) | no sync ${fmtRate(R.tarDisk, filesPerSec, 'files/s')} -> ${ratio(R.ferrySmallDisk, R.tarDisk, filesPerSec)}`,
    );
    line(
      `${smallFiles} x 4 KiB on tmpfs: Ferry ${fmtRate(R.ferrySmallShm, filesPerSec, 'files/s')} vs tar|pipe ${fmtRate(R.tarShm, filesPerSec, 'files/s')} -> ${ratio(R.ferrySmallShm, R.tarShm, filesPerSec)}`,
    );
    line(
      `${smallFiles} x 4 KiB encrypted: Ferry TLS ${fmtRate(R.ferryTlsSmallDisk, filesPerSec, 'files/s')} (CPU send ${cpuOf(R.ferryTlsSmallDisk, 'send')} s, recv ${cpuOf(R.ferryTlsSmallDisk, 'recv')} s) vs plain ${fmtRate(R.ferrySmallDisk, filesPerSec, 'files/s')} -> ${ratio(R.ferryTlsSmallDisk, R.ferrySmallDisk, filesPerSec)} | on tmpfs ${fmtRate(R.ferryTlsSmallShm, filesPerSec, 'files/s')} vs ${fmtRate(R.ferrySmallShm, filesPerSec, 'files/s')} -> ${ratio(R.ferryTlsSmallShm, R.ferrySmallShm, filesPerSec)}`,
    );
  }
  const rs = peakRss(allRows, 'ferry-serve');
  const rc = peakRss(allRows, 'ferry-send');
  line(
    `peak RSS over all runs: ferry-serve ${rs?.mb.toFixed(0) ?? 'n/a'} MB, ferry-send ${rc?.mb.toFixed(0) ?? 'n/a'} MB (target < ${TARGETS.rssMB} MB${rs !== undefined && rc !== undefined && rs.mb < TARGETS.rssMB && rc.mb < TARGETS.rssMB ? ' PASS' : ' FAIL'})`,
  );
  if (sweepRows.length > 0) {
    line(
      `sockets sweep (${bigName}): ${sweepRows.map((r) => `${r.key.replace('sweep-', '')} ${r.ok ? mbps(r).toFixed(0) : 'n/a'}`).join(', ')} MB/s`,
    );
  }
  line('---');
  line(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(out.join('\n'));
  return all.some((r) => !r.ok) ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`bench: ${errorText(err)}\n`);
} finally {
  cleanup();
}
process.exit(code);
