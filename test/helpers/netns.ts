/**
 * A private network of Linux network namespaces for tests, as root can build one: a bridge in a
 * namespace of its own, and N namespaces each joined to it by a veth pair with an address in a
 * test subnet. Everything is created inside namespaces this helper makes (veth pairs are created
 * from inside the bridge namespace straight into their peers), so the host's own interfaces,
 * addresses and routes are never touched; deleting the namespaces deletes every link.
 *
 * Also a wrapper for a child process that speaks JSON lines (test/helpers/discovery-child.ts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as readline from 'node:readline';

const PREFIX = 'ferry-t';

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function errText(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(err)).trim().split('\n')[0] ?? '';
}

/**
 * Whether this machine lets us build such a network: Linux, root, `ip` present, and a throwaway
 * namespace can hold a bridge and a veth pair. `reason` says why not, for the skipped test's name.
 */
export function netnsSupport(): { ok: boolean; reason: string } {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces are Linux-only (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root for ip netns (CAP_SYS_ADMIN, CAP_NET_ADMIN)' };
  try {
    ip(['-V']);
  } catch {
    return { ok: false, reason: 'the ip command (iproute2) is not installed' };
  }
  const probe = `${PREFIX}-probe-${process.pid}-${randomBytes(2).toString('hex')}`;
  try {
    ip(['netns', 'add', probe]);
  } catch (err) {
    return { ok: false, reason: `ip netns add failed: ${errText(err)}` };
  }
  try {
    ip(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', probe, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    return { ok: true, reason: '' };
  } catch (err) {
    return { ok: false, reason: `cannot create a bridge and a veth pair in a namespace: ${errText(err)}` };
  } finally {
    try {
      ip(['netns', 'del', probe]);
    } catch {
      // nothing more to do
    }
  }
}

/** Delete namespaces left by a test run that was killed (their creator's pid is gone). */
function removeStale(): void {
  let list = '';
  try {
    list = ip(['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') {
        try {
          ip(['netns', 'del', name]);
        } catch {
          // someone else removed it
        }
      }
    }
  }
}

export interface LabHost {
  ns: string;
  /** Its address in the test subnet (on its interface `veth0`). */
  address: string;
}

export class NetnsLab {
  readonly bridgeNs: string;
  readonly hosts: LabHost[] = [];
  private readonly id: string;
  private readonly children = new Set<ChildProcess>();
  private readonly created: string[] = [];

  /**
   * `count` hosts with addresses `${subnet}.${firstHost + i}`/24 (subnet like '10.223.0').
   * Throws, after removing what it made, if any step fails.
   */
  static create(count: number, subnet = '10.223.0', firstHost = 1): NetnsLab {
    removeStale();
    const lab = new NetnsLab();
    try {
      lab.build(count, subnet, firstHost);
    } catch (err) {
      lab.cleanup();
      throw err;
    }
    return lab;
  }

  private constructor() {
    const id = `${PREFIX}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.bridgeNs = `${id}-br`;
    this.id = id;
    // The last resort if the runner exits without afterAll.
    process.once('exit', () => this.cleanup());
  }

  private addNs(name: string): void {
    ip(['netns', 'add', name]);
    this.created.push(name);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private build(count: number, subnet: string, firstHost: number): void {
    this.addNs(this.bridgeNs);
    ip(['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
    for (let i = 0; i < count; i++) {
      const ns = `${this.id}-h${i + 1}`;
      const address = `${subnet}.${firstHost + i}`;
      this.addNs(ns);
      // Made inside the bridge namespace, its other end moved straight into the host's namespace.
      ip(['-n', this.bridgeNs, 'link', 'add', `p${i + 1}`, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', ns]);
      ip(['-n', this.bridgeNs, 'link', 'set', `p${i + 1}`, 'master', 'br0', 'up']);
      ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'veth0']);
      ip(['-n', ns, 'link', 'set', 'veth0', 'up']);
      this.hosts.push({ ns, address });
    }
  }

  /** Run `node ...args` inside a host's namespace, speaking JSON lines. */
  spawnNode(ns: string, args: string[]): JsonLinesChild {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return new JsonLinesChild(child);
  }

  /** Kill what we started, delete every namespace we made. Safe to call twice. */
  cleanup(): void {
    for (const c of this.children) c.kill('SIGKILL');
    this.children.clear();
    for (const name of this.created.splice(0).reverse()) {
      try {
        ip(['netns', 'del', name]);
      } catch {
        // already gone
      }
    }
  }

  /** Names of this lab's namespaces that still exist (for the cleanup check). */
  remaining(): string[] {
    return ip(['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(this.id));
  }
}

export type JsonEvent = { event: string } & Record<string, unknown>;

/** A child process whose stdout is JSON lines; every event is kept, in order. */
export class JsonLinesChild {
  readonly events: JsonEvent[] = [];
  stderr = '';
  exited = false;
  private waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as JsonEvent);
      } catch {
        this.events.push({ event: 'unparsed', line });
      }
      this.wake();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.once('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(line: string | object): void {
    this.child.stdin!.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }

  /** Resolve with the first value `pick` returns (defined) over the events so far and to come. */
  async waitFor<T>(what: string, pick: (events: JsonEvent[]) => T | undefined, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pick(this.events);
      if (v !== undefined) return v;
      if (this.exited) throw new Error(`child exited while waiting for ${what}; stderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Ask for a fresh `stats` event (discovery mode) and return it. */
  async stats(): Promise<JsonEvent> {
    const seen = this.events.length;
    this.send('stats');
    return this.waitFor('stats', (ev) => ev.slice(seen).find((e) => e.event === 'stats'));
  }
}
