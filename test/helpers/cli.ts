/**
 * Running the real, compiled `ferry` command as a separate process, the way a person does:
 * `node electron/cli/ferry.js ...` from the repository folder. `npm run build` must have run
 * (`npm test` builds first). Also a small TCP proxy that can cut every connection or stop
 * forwarding one way, for the retry and cancel tests.
 *
 * Every ferry started here has a home of its own unless the test gives one (--home or
 * FERRY_HOME): a test never reads or writes the identity of the user running it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** The repository folder: the nearest parent with Ferry's package.json (works from src and dist). */
export const REPO = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ferry') return dir;
    } catch {
      // not here
    }
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the repository folder');
})();

export const FERRY_JS = path.join(REPO, 'electron', 'cli', 'ferry.js');

/** Fail early, and say why, when the CLI has not been compiled. */
export function assertBuilt(): void {
  if (!fs.existsSync(path.join(REPO, 'dist', 'electron', 'cli', 'main.js'))) {
    throw new Error('dist/electron/cli/main.js is missing: run `npm run build` first (npm test does)');
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Non-empty stderr lines. */
  errLines: string[];
  /** Non-empty stdout lines. */
  outLines: string[];
}

const children = new Set<ChildProcess>();

/** Kill whatever a failed test left running. */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

let fallbackHome: string | undefined;

/**
 * The FERRY_HOME of a ferry started without one: one folder per test file, made on first use
 * and removed when the test process exits.
 */
export function defaultTestHome(): string {
  if (!fallbackHome) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-home-'));
    fallbackHome = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return fallbackHome;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** 'pipe' to write to the command's stdin (never a terminal); default: none (/dev/null). */
  stdin?: 'pipe' | 'ignore';
}

export function spawnFerry(args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(process.execPath, [FERRY_JS, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, FERRY_DEBUG: '', FERRY_HOME: defaultTestHome(), ...opts.env },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}

/** Collect a child's output until it exits. */
export function collect(child: ChildProcess, timeoutMs = 20_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ferry did not exit within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, errLines: lines(stderr), outLines: lines(stdout) });
    });
  });
}

/** Run `ferry ARGS...` to the end. */
export function runFerry(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return collect(spawnFerry(args, opts), opts.timeoutMs);
}

/** `ferry id --home HOME`: the device ID of that home (made on first use). */
export async function ferryId(home: string): Promise<string> {
  const r = await runFerry(['id', '--home', home]);
  if (r.code !== 0 || r.outLines.length !== 1) throw new Error(`ferry id failed: ${r.stderr}`);
  return r.outLines[0]!;
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  /** The address in the `listening on HOST:PORT` line (0.0.0.0 by default). */
  host: string;
  /** `127.0.0.1:PORT`, as the CLI takes a peer. */
  address: string;
  /** The command's stdin, when started with `stdin: 'pipe'`. */
  stdin: Writable | null;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Resolves with the first stderr line matching `re` (waiting for it if need be). */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Send a signal and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `ferry serve ARGS...` and wait for its `listening on HOST:PORT` line. */
export async function startServe(args: string[], opts: SpawnOptions = {}): Promise<ServeProcess> {
  const child = spawnFerry(['serve', ...args], opts);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  const until = <T>(test: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const v = test();
        if (v !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(v);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`ferry serve exited before ${what}; stdout: ${stdout}; stderr: ${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const listening = await until(() => /^listening on (.+):(\d+)\n/.exec(stdout) ?? undefined, '"listening on" line');
  const port = Number(listening[2]);
  return {
    child,
    port,
    host: listening[1]!,
    address: `127.0.0.1:${port}`,
    stdin: child.stdin,
    stderr: () => stderr,
    waitForStderr: (re, timeoutMs) =>
      until(() => lines(stderr).find((l) => re.test(l)), `stderr line matching ${String(re)}`, timeoutMs),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface FaultProxy {
  address: string;
  /** Bytes forwarded client -> server and server -> client, over all connections so far. */
  bytesUp(): number;
  bytesDown(): number;
  /**
   * The network drops: destroy every open connection. Connections made afterwards are forwarded
   * freely (no stall): the network came back.
   */
  cutAll(): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Once this many bytes went client -> server, stop forwarding that way (until cutAll). */
  stallUpAfter?: number;
  /** Once this many bytes went server -> client, stop forwarding that way (until cutAll). */
  stallDownAfter?: number;
}

/**
 * A TCP proxy in front of 127.0.0.1:targetPort for fault tests: a link that stops carrying data
 * one way (the peer stalls), and a network that drops every connection at once (a Wi-Fi
 * hand-over). A stalled direction is never resumed; the data read when it stalls is dropped,
 * which is harmless because a stalled connection is only ever cut, never continued.
 */
export async function startFaultProxy(targetPort: number, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  let up = 0;
  let down = 0;
  let healed = false;
  const sockets = new Set<net.Socket>();
  const stalled = (count: number, limit: number | undefined): boolean =>
    !healed && limit !== undefined && count >= limit;
  const server = net.createServer((client) => {
    const target = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(target);
    const kill = (): void => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    // Each direction: forward with backpressure, unless that direction has stalled.
    const pipe = (from: net.Socket, to: net.Socket, count: () => number, add: (n: number) => void, limit?: number) => {
      from.on('data', (chunk: Buffer) => {
        if (stalled(count(), limit)) {
          from.pause();
          return;
        }
        add(chunk.length);
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => {
        if (!stalled(count(), limit)) from.resume();
      });
    };
    pipe(
      client,
      target,
      () => up,
      (n) => (up += n),
      opts.stallUpAfter,
    );
    pipe(
      target,
      client,
      () => down,
      (n) => (down += n),
      opts.stallDownAfter,
    );
    for (const s of [client, target]) {
      s.on('close', kill);
      s.on('error', kill);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    bytesUp: () => up,
    bytesDown: () => down,
    cutAll: () => {
      healed = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
