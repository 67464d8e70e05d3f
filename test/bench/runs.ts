/**
 * One measured run per function: Ferry, the raw node pipe, socat, and tar through a pipe. Each
 * run gets a fresh destination folder, starts its processes, waits until they are all set up,
 * then times from 'go' to the moment the data is where it should be (and synced when the run
 * is a "+ fsync" one), checks what landed, and deletes the destination again.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorText } from './ipc.js';
import { freePort, killAll, NodeChild, type ProcUsage, ToolProcess, waitListening, which } from './procs.js';
import type { SshLab } from './ssh.js';

export type Target = 'disk' | 'shm';
export type Kind = 'big' | 'small';

export interface Ctx {
  /** Scratch folder on tmpfs (GNU time's reports). */
  work: string;
  bigFile: string;
  bigBytes: number;
  smallDir: string;
  smallFiles: number;
  smallBytes: number;
  /** Where destinations go: os.tmpdir() (a real disk) and /dev/shm (tmpfs). */
  bases: Record<Target, string>;
  /** Extra node flags for the Ferry children (e.g. --cpu-prof). */
  ferryExecArgv: (name: string, key: string) => string[];
}

export interface RunSpec {
  key: string;
  label: string;
  kind: Kind;
  target: Target;
  /** The data was made durable (fsync, syncfs) before the clock stopped. */
  sync: boolean;
}

export interface RunResult extends RunSpec {
  ok: boolean;
  seconds: number;
  bytes: number;
  files: number;
  procs: ProcUsage[];
  note?: string;
  error?: string;
  /** Wall seconds of the row's other (slower) runs, when it ran more than once. */
  otherSeconds?: number[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const script = (name: string): string => path.join(here, name);

interface Measured {
  seconds: number;
  procs: ProcUsage[];
  note?: string;
}

/** Flush the disk's file system (coreutils `sync -f`, i.e. syncfs) between runs, untimed. */
export async function settleDisk(dir: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const p = spawn('sync', ['-f', dir], { stdio: 'ignore' });
    p.once('exit', () => resolve());
    p.once('error', () => resolve());
  });
}

/** Destinations that exist right now, so that an interrupted bench can still remove them. */
export const liveDests = new Set<string>();

async function measured(ctx: Ctx, spec: RunSpec, body: (dest: string) => Promise<Measured>): Promise<RunResult> {
  const dest = await fs.promises.mkdtemp(path.join(ctx.bases[spec.target], 'ferry-bench-dst-'));
  liveDests.add(dest);
  const size =
    spec.kind === 'big' ? { bytes: ctx.bigBytes, files: 1 } : { bytes: ctx.smallBytes, files: ctx.smallFiles };
  try {
    const m = await body(dest);
    await verify(ctx, spec.kind, dest);
    return { ...spec, ...size, ...m, ok: true };
  } catch (err) {
    killAll();
    return { ...spec, ...size, ok: false, seconds: NaN, procs: [], error: errorText(err) };
  } finally {
    await fs.promises.rm(dest, { recursive: true, force: true });
    liveDests.delete(dest);
    // Dirty pages of a no-sync run must not be written back during the next run.
    if (spec.target === 'disk') await settleDisk(ctx.bases.disk);
  }
}

/**
 * Two Ferry homes that know each other, for the encrypted runs: each holds its own identity and
 * trusts the other with browse, send and "send without asking"; the sender pins the server.
 */
export interface FerryTls {
  serveHome: string;
  sendHome: string;
  /** SHA-256 of the serving home's certificate, hex (the sender's --expect). */
  serveFingerprint: string;
}

/**
 * Ferry: a server process rooted at the destination, a client process uploading to it; over
 * TLS 1.3 with `tls`, plain TCP without. The connection (and its handshake) is made before the
 * clock starts.
 */
export function runFerry(ctx: Ctx, spec: RunSpec, sockets: number, tls?: FerryTls): Promise<RunResult> {
  return measured(ctx, spec, async (dest) => {
    const serve = new NodeChild(
      'ferry-serve',
      'recv',
      script('ferry-serve.js'),
      [dest, ...(tls ? ['--home', tls.serveHome] : [])],
      {
        execArgv: ctx.ferryExecArgv('ferry-serve', spec.key),
      },
    );
    const { port } = await serve.next('ready', 30_000);
    const src = spec.kind === 'big' ? ctx.bigFile : ctx.smallDir;
    const tlsArgs = tls ? ['--home', tls.sendHome, '--expect', tls.serveFingerprint] : [];
    const send = new NodeChild(
      'ferry-send',
      'send',
      script('ferry-send.js'),
      [String(port), String(sockets), ...tlsArgs, src],
      {
        execArgv: ctx.ferryExecArgv('ferry-send', spec.key),
      },
    );
    await send.next('ready', 30_000);
    const t0 = performance.now();
    send.tell({ type: 'go' });
    const done = await send.next('done');
    const seconds = (performance.now() - t0) / 1000;
    const outcome = await serve.next('transfer', 10_000);
    serve.tell({ type: 'stop' });
    const procs = [await send.finalUsage(), await serve.finalUsage()];
    if (!done.ok) throw new Error(`ferry-send: ${done.detail}`);
    if (outcome.state !== 'done') throw new Error(`ferry-serve: transfer ${outcome.state} ${outcome.error ?? ''}`);
    return { seconds, procs, note: `${done.sockets} sockets${tls ? ', TLS 1.3' : ''}` };
  });
}

/** The raw node pipe: file -> socket -> file, optionally fsynced before close. */
export function runRawFile(ctx: Ctx, spec: RunSpec): Promise<RunResult> {
  return measured(ctx, spec, async (dest) => {
    const out = path.join(dest, path.basename(ctx.bigFile));
    const recv = new NodeChild('raw-recv', 'recv', script('raw-recv.js'), [out, ...(spec.sync ? ['--fsync'] : [])]);
    const { port } = await recv.next('ready', 30_000);
    const send = new NodeChild('raw-send', 'send', script('raw-send.js'), [String(port), ctx.bigFile]);
    await send.next('ready', 30_000);
    const t0 = performance.now();
    send.tell({ type: 'go' });
    const got = await recv.next('done');
    const seconds = (performance.now() - t0) / 1000;
    const sent = await send.next('done');
    const procs = [await send.finalUsage(), await recv.finalUsage()];
    if (!sent.ok) throw new Error(`raw-send: ${sent.detail}`);
    if (!got.ok) throw new Error(`raw-recv: ${got.detail}`);
    return { seconds, procs };
  });
}

/** socat -b 1 MiB from file to socket to file; "+ fsync" runs coreutils `sync FILE` after it. */
export function runSocatFile(ctx: Ctx, spec: RunSpec, socat: string): Promise<RunResult> {
  return measured(ctx, spec, async (dest) => {
    const out = path.join(dest, path.basename(ctx.bigFile));
    const port = await freePort();
    const common = ['-b', '1048576', '-u'];
    const recv = new ToolProcess(
      'socat',
      'recv',
      socat,
      [...common, `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${out},creat,trunc,wronly`],
      ['ignore', 'inherit'],
      ctx.work,
    );
    await waitListening(port);
    const t0 = performance.now();
    const send = new ToolProcess(
      'socat',
      'send',
      socat,
      [...common, `OPEN:${ctx.bigFile},rdonly`, `TCP:127.0.0.1:${port}`],
      ['ignore', 'inherit'],
      ctx.work,
    );
    await Promise.all([send.success(), recv.success()]);
    const procs = [await send.finalUsage(), await recv.finalUsage()];
    if (spec.sync) {
      const s = new ToolProcess('sync FILE', 'recv', 'sync', [out], ['ignore', 'inherit'], ctx.work);
      await s.success();
      procs.push(await s.finalUsage());
    }
    return { seconds: (performance.now() - t0) / 1000, procs };
  });
}

/**
 * scp (SFTP, `-c aes128-gcm@openssh.com`) of the big file to a throwaway sshd on 127.0.0.1,
 * started for this run and stopped after it (its CPU is the receiving side's). Unlike Ferry's
 * runs, the clock includes the ssh connection and login: that is what an scp costs; bench.ts
 * prints how long a bare `ssh true` took for scale. "+ fsync" runs coreutils `sync FILE` after.
 */
export function runScp(ctx: Ctx, spec: RunSpec, lab: SshLab): Promise<RunResult> {
  return measured(ctx, spec, async (dest) => {
    const out = path.join(dest, path.basename(ctx.bigFile));
    const sshd = await lab.start(ctx.work);
    try {
      const t0 = performance.now();
      const scp = new ToolProcess(
        'scp',
        'send',
        lab.tools.scp,
        ['-q', ...lab.clientArgs('-P', sshd.port), ctx.bigFile, `${lab.user}@127.0.0.1:${out}`],
        ['ignore', 'inherit'],
        ctx.work,
      );
      await scp.success();
      const procs = [await scp.finalUsage()];
      if (spec.sync) {
        const s = new ToolProcess('sync FILE', 'recv', 'sync', [out], ['ignore', 'inherit'], ctx.work);
        await s.success();
        procs.push(await s.finalUsage());
      }
      const seconds = (performance.now() - t0) / 1000;
      procs.push(await sshd.stop());
      return { seconds, procs, note: `scp -c ${lab.cipher}` };
    } finally {
      await sshd.stop();
    }
  });
}

/** How to drive an nc flavour: listen on 127.0.0.1:port writing stdout; send stdin then close. */
export interface NcFlavour {
  name: string;
  bin: string;
  listen: (port: number) => string[];
  send: (port: number) => string[];
}

/** Recognise the nc on PATH by its help text; undefined when absent or of an unknown flavour. */
export async function detectNc(): Promise<{ flavour?: NcFlavour; note?: string }> {
  const bin = which('nc') ?? which('ncat');
  if (!bin) return { note: 'nc is not on PATH' };
  const help = await new Promise<string>((resolve) => {
    let text = '';
    const p = spawn(bin, ['-h'], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.stderr.on('data', (d: Buffer) => (text += d.toString()));
    p.once('close', () => resolve(text));
    p.once('error', () => resolve(text));
  });
  if (/OpenBSD netcat/i.test(help)) {
    return {
      flavour: {
        name: 'nc (OpenBSD)',
        bin,
        listen: (port) => ['-d', '-l', '127.0.0.1', String(port)],
        send: (port) => ['-N', '127.0.0.1', String(port)],
      },
    };
  }
  if (/Ncat/.test(help)) {
    return {
      flavour: {
        name: 'ncat',
        bin,
        listen: (port) => ['--recv-only', '-l', '127.0.0.1', String(port)],
        send: (port) => ['--send-only', '127.0.0.1', String(port)],
      },
    };
  }
  if (/\[v1\.10/.test(help)) {
    return {
      flavour: {
        name: 'nc (traditional)',
        bin,
        listen: (port) => ['-l', '-s', '127.0.0.1', '-p', String(port)],
        send: (port) => ['-q', '0', '127.0.0.1', String(port)],
      },
    };
  }
  return { note: `${bin} is an nc flavour this bench does not know; using the node pipe` };
}

/**
 * tar -cf - -C SRC . | pipe | tar -xf - -C DEST, the pipe being raw-send/raw-recv or nc. Every
 * process is started and connected before the clock starts (tar -c has at most one pipe buffer,
 * 64 KiB, written by then); the clock stops when tar -x exits, or after `sync -f DEST` for "+ fsync".
 */
export function runTarPipe(ctx: Ctx, spec: RunSpec, nc?: NcFlavour): Promise<RunResult> {
  return measured(ctx, spec, async (dest) => {
    const tarX = new ToolProcess('tar -x', 'recv', 'tar', ['-xf', '-', '-C', dest], ['pipe', 'inherit'], ctx.work);
    const tarXIn = tarX.proc.stdin!;
    let start: () => Promise<{ wait: Promise<void>; usage: () => Promise<ProcUsage[]> }>;
    if (nc) {
      const port = await freePort();
      const listener = new ToolProcess(nc.name, 'recv', nc.bin, nc.listen(port), ['ignore', tarXIn], ctx.work);
      tarXIn.destroy();
      await waitListening(port);
      start = () => {
        const tarC = new ToolProcess(
          'tar -c',
          'send',
          'tar',
          ['-cf', '-', '-C', ctx.smallDir, '.'],
          ['ignore', 'pipe'],
          ctx.work,
        );
        const sender = new ToolProcess(nc.name, 'send', nc.bin, nc.send(port), [tarC.proc.stdout!, 'ignore'], ctx.work);
        tarC.proc.stdout!.destroy();
        return Promise.resolve({
          wait: Promise.all([tarC.success(), sender.success(), listener.success()]).then(() => undefined),
          usage: async () => [await tarC.finalUsage(), await sender.finalUsage(), await listener.finalUsage()],
        });
      };
    } else {
      const recv = new NodeChild('raw-recv', 'recv', script('raw-recv.js'), ['-'], { stdio: ['ignore', tarXIn] });
      tarXIn.destroy();
      const { port } = await recv.next('ready', 30_000);
      const tarC = new ToolProcess(
        'tar -c',
        'send',
        'tar',
        ['-cf', '-', '-C', ctx.smallDir, '.'],
        ['ignore', 'pipe'],
        ctx.work,
      );
      const send = new NodeChild('raw-send', 'send', script('raw-send.js'), [String(port), '-'], {
        stdio: [tarC.proc.stdout!, 'inherit'],
      });
      tarC.proc.stdout!.destroy();
      await send.next('ready', 30_000);
      start = () => {
        send.tell({ type: 'go' });
        return Promise.resolve({
          wait: (async () => {
            await tarC.success();
            const [s, r] = await Promise.all([send.next('done'), recv.next('done')]);
            if (!s.ok) throw new Error(`raw-send: ${s.detail}`);
            if (!r.ok) throw new Error(`raw-recv: ${r.detail}`);
          })(),
          usage: async () => [await tarC.finalUsage(), await send.finalUsage(), await recv.finalUsage()],
        });
      };
    }
    const t0 = performance.now();
    const run = await start();
    await Promise.all([run.wait, tarX.success()]);
    const procs = [...(await run.usage()), await tarX.finalUsage()];
    if (spec.sync) {
      const s = new ToolProcess('sync -f', 'recv', 'sync', ['-f', dest], ['ignore', 'inherit'], ctx.work);
      await s.success();
      procs.push(await s.finalUsage());
    }
    return { seconds: (performance.now() - t0) / 1000, procs, ...(nc ? { note: nc.name } : {}) };
  });
}

const SAMPLE = 1024 * 1024;

/** Check that what landed is what was sent: sizes and counts, and for the big file some of its bytes. */
async function verify(ctx: Ctx, kind: Kind, dest: string): Promise<void> {
  if (kind === 'big') {
    const found = await listFiles(dest);
    if (found.length !== 1) throw new Error(`expected 1 file in the destination, found ${found.length}`);
    const [file, size] = found[0]!;
    if (size !== ctx.bigBytes) throw new Error(`${file} has ${size} bytes, expected ${ctx.bigBytes}`);
    const offsets = [0, Math.floor(ctx.bigBytes / 2), Math.max(0, ctx.bigBytes - SAMPLE)];
    for (let k = 0; k < 4; k++) offsets.push(Math.floor(Math.random() * Math.max(1, ctx.bigBytes - SAMPLE)));
    const [a, b] = await Promise.all([fs.promises.open(ctx.bigFile, 'r'), fs.promises.open(file, 'r')]);
    try {
      for (const o of offsets) {
        const x = Buffer.alloc(SAMPLE);
        const y = Buffer.alloc(SAMPLE);
        await Promise.all([a.read(x, 0, SAMPLE, o), b.read(y, 0, SAMPLE, o)]);
        if (!x.equals(y)) throw new Error(`${file} differs from the source near byte ${o}`);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    return;
  }
  const found = await listFiles(dest);
  const bytes = found.reduce((n, [, s]) => n + s, 0);
  if (found.length !== ctx.smallFiles || bytes !== ctx.smallBytes) {
    throw new Error(`expected ${ctx.smallFiles} files of ${ctx.smallBytes} bytes, found ${found.length} of ${bytes}`);
  }
}

/** Every regular file under dir, with its size. */
async function listFiles(dir: string): Promise<[string, number][]> {
  const out: [string, number][] = [];
  const entries = await fs.promises.readdir(dir, { withFileTypes: true, recursive: true });
  await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const p = path.join(e.parentPath ?? e.path, e.name);
        out.push([p, (await fs.promises.stat(p)).size]);
      }),
  );
  return out;
}
