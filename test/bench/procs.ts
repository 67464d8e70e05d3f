/**
 * Parent-side process handling for the bench: node children forked with an IPC channel (they
 * report their own usage), and external tools (tar, socat, nc, sync) run under GNU time so that
 * their CPU and peak RSS are known too. Every process started here is tracked, so that a failed
 * run can end exactly the processes it started, by their own handles.
 */
import { type ChildProcess, type StdioOptions, fork, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ChildMessage, ParentMessage, Usage } from './ipc.js';

export type Side = 'send' | 'recv';
/** One entry of a spawn stdio array: 'pipe', 'ignore', 'inherit', an fd, or a stream with an fd. */
export type Stdio = Exclude<StdioOptions, string>[number];

/** What one process cost, as printed. Undefined where it could not be measured. */
export interface ProcUsage {
  name: string;
  side: Side;
  cpuSeconds: number | undefined;
  /** Peak resident set size, KiB. */
  rssKiB: number | undefined;
  /** Minor page faults (node children only). */
  minorFaults?: number;
}

/** Running children; `group` when the child leads its own process group (GNU time and its tool). */
const live = new Map<ChildProcess, { group: boolean }>();

/** End every process this bench started and that is still running (used on failure and exit). */
export function killAll(): void {
  for (const [p, { group }] of live) {
    if (p.exitCode !== null || p.signalCode !== null || p.pid === undefined) continue;
    try {
      // A tool runs under GNU time in a group of its own: killing time alone would orphan the tool.
      if (group) process.kill(-p.pid, 'SIGKILL');
      else p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function track(p: ChildProcess, group = false): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  live.set(p, { group });
  return new Promise((resolve) => {
    p.once('exit', (code, signal) => {
      live.delete(p);
      resolve({ code, signal });
    });
    p.once('error', () => {
      live.delete(p);
      resolve({ code: -1, signal: null });
    });
  });
}

/** A forked node child speaking ipc.ts's messages. */
export class NodeChild {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters: { type: ChildMessage['type']; resolve: (m: ChildMessage) => void }[] = [];
  private usage: Usage | undefined;

  constructor(
    readonly name: string,
    readonly side: Side,
    script: string,
    args: string[],
    opts: { stdio?: [Stdio, Stdio]; execArgv?: string[] } = {},
  ) {
    const [stdin, stdout] = opts.stdio ?? ['ignore', 'inherit'];
    this.proc = fork(script, args, {
      stdio: [stdin, stdout, 'inherit', 'ipc'],
      execArgv: opts.execArgv ?? [],
    });
    this.exited = track(this.proc);
    this.proc.on('message', (m: ChildMessage) => {
      if (m.type === 'usage') this.usage = m.usage;
      const k = this.waiters.findIndex((w) => w.type === m.type);
      if (k >= 0) this.waiters.splice(k, 1)[0]!.resolve(m);
      else this.inbox.push(m);
    });
  }

  /** The next message of this type; rejects when the child exits first. */
  next<T extends ChildMessage['type']>(type: T, timeoutMs = 600_000): Promise<Extract<ChildMessage, { type: T }>> {
    const k = this.inbox.findIndex((m) => m.type === type);
    if (k >= 0) return Promise.resolve(this.inbox.splice(k, 1)[0] as Extract<ChildMessage, { type: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const w = {
        type,
        resolve: (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m as Extract<ChildMessage, { type: T }>);
        },
      };
      this.waiters.push(w);
      void this.exited.then(({ code, signal }) => {
        // Messages sent just before exit arrive before 'exit'; give them a tick anyway.
        setImmediate(() => {
          const i = this.waiters.indexOf(w);
          if (i < 0) return;
          this.waiters.splice(i, 1);
          clearTimeout(timer);
          reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before "${type}"`));
        });
      });
    });
  }

  tell(m: ParentMessage): void {
    this.proc.send(m);
  }

  /** Waits for the child to exit, then returns what it reported about itself. */
  async finalUsage(): Promise<ProcUsage> {
    await this.exited;
    const u = this.usage;
    return {
      name: this.name,
      side: this.side,
      cpuSeconds: u ? (u.userUs + u.systemUs) / 1e6 : undefined,
      rssKiB: u?.maxRssKiB,
      ...(u ? { minorFaults: u.minorFaults } : {}),
    };
  }
}

const TIME_BIN = '/usr/bin/time';
/** GNU time writes user and system seconds and peak RSS (KiB) of the command it ran. */
export const hasGnuTime = ((): boolean => {
  try {
    return spawnSync(TIME_BIN, ['-f', '%M', 'true'], { stdio: 'pipe' }).status === 0;
  } catch {
    return false;
  }
})();

/** An external command, run under GNU time when available so that its usage is known. */
export class ToolProcess {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly timeFile: string | undefined;

  constructor(
    readonly name: string,
    readonly side: Side,
    cmd: string,
    args: string[],
    stdio: [Stdio, Stdio],
    workDir: string,
  ) {
    this.timeFile = hasGnuTime
      ? path.join(workDir, `time-${process.pid}-${Math.random().toString(36).slice(2)}`)
      : undefined;
    const [file, argv] = this.timeFile
      ? [TIME_BIN, ['-f', '%U %S %M', '-o', this.timeFile, cmd, ...args]]
      : [cmd, args];
    this.proc = spawn(file, argv, { stdio: [stdio[0], stdio[1], 'inherit'], detached: true });
    this.exited = track(this.proc, true);
  }

  /** Resolves when the command exits 0; rejects naming the command otherwise. */
  async success(): Promise<void> {
    const { code, signal } = await this.exited;
    if (code !== 0) throw new Error(`${this.name} failed (${signal ?? `exit code ${code}`})`);
  }

  async finalUsage(): Promise<ProcUsage> {
    await this.exited;
    let cpuSeconds: number | undefined;
    let rssKiB: number | undefined;
    if (this.timeFile) {
      try {
        // GNU time prints "Command exited with non-zero status N" first when it did.
        const last = fs.readFileSync(this.timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [u, s, m] = last.split(/\s+/).map(Number);
        if (u !== undefined && s !== undefined && m !== undefined && [u, s, m].every(Number.isFinite)) {
          cpuSeconds = u + s;
          rssKiB = m;
        }
      } catch {
        // not measured
      }
      fs.rmSync(this.timeFile, { force: true });
    }
    return { name: this.name, side: this.side, cpuSeconds, rssKiB };
  }
}

/** Full path of a command on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port that was free a moment ago (for tools that cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * Wait until something listens on 127.0.0.1:port, by reading /proc/net/tcp rather than
 * connecting (a one-shot listener such as nc or socat would take the probe as its client).
 */
export async function waitListening(port: number, timeoutMs = 5000): Promise<void> {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    let table = '';
    try {
      table = fs.readFileSync('/proc/net/tcp', 'utf8');
    } catch {
      // not Linux: fall back to a fixed pause
      await new Promise((r) => setTimeout(r, 300));
      return;
    }
    for (const line of table.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === want && cols[3] === '0A') return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`Nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}
