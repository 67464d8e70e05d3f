/**
 * A real Ferry peer for end-to-end tests: `node electron/cli/ferry.js ui ...` in its own
 * process, with its own settings home, shared folder and download folder under one temporary
 * folder. It prints `ui at URL` (the browser shell) and `listening on HOST:PORT` (the Ferry
 * server other peers add); both are read back from stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository folder: the nearest parent with Ferry's package.json. */
import { FERRY_JS, REPO } from '../../helpers/cli.js';

export { FERRY_JS, REPO };

// Peers a crashed or interrupted run did not stop go with the test worker, not after it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Reads a child's output line by line and waits for lines matching a pattern. */
export class LineReader {
  private text = '';
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    stream: NodeJS.ReadableStream,
    private readonly what: string,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      this.text += s;
      this.wake();
    });
    stream.on('end', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Everything read so far. */
  all(): string {
    return this.text;
  }

  lines(): string[] {
    return this.text.split('\n').filter((l) => l.trim() !== '');
  }

  /** The first complete line matching `re`, waiting up to `timeoutMs` for it. */
  waitFor(re: RegExp, timeoutMs = 15_000, context: () => string = () => ''): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        // Only whole lines: a line still being written could match half of what it will say.
        const done = this.text.slice(0, this.text.lastIndexOf('\n') + 1);
        for (const line of done.split('\n')) {
          const m = line.match(re);
          if (m) {
            finish();
            resolve(m);
            return;
          }
        }
        if (this.closed) {
          finish();
          reject(new Error(`${this.what} ended without a line matching ${re}${context()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no line matching ${re} on ${this.what} within ${timeoutMs} ms${context()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

export interface PeerOptions {
  /** Device name, written to the settings file before the first start. */
  name: string;
  /** Called with the shared folder before the peer starts, to fill it. */
  fill?: (shared: string) => void;
  /**
   * Announce itself and list nearby devices (default false: peers on one machine would find
   * each other, and every other Ferry on the network, and the tests count peers).
   */
  discovery?: boolean;
}

export interface Peer {
  name: string;
  /** The temporary folder holding everything below. */
  dir: string;
  home: string;
  shared: string;
  downloads: string;
  /** The browser shell's page, token included. */
  url: string;
  /** `HOST:PORT` of its Ferry server as `ferry ui` prints it: what another peer adds. */
  address: string;
  child: ChildProcess;
  stdout: LineReader;
  stderr: LineReader;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** stop(), then remove its folders. */
  dispose(): Promise<void>;
}

/** Start `ferry ui` for a new device and wait until it prints both of its addresses. */
export async function startPeer(opts: PeerOptions): Promise<Peer> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `ferry-e2e-${opts.name.toLowerCase()}-`)));
  const home = path.join(dir, 'home');
  const shared = path.join(dir, 'shared');
  const downloads = path.join(dir, 'downloads');
  for (const d of [home, shared, downloads]) fs.mkdirSync(d, { recursive: true });
  // The name is a setting, not a flag: a first-run settings file with only the name (and
  // whether to look for nearby devices), the way a person would have set them before.
  fs.writeFileSync(
    path.join(home, 'settings.json'),
    JSON.stringify({ version: 2, name: opts.name, discovery: opts.discovery ?? false }) + '\n',
  );
  opts.fill?.(shared);

  const child = spawn(
    process.execPath,
    [
      FERRY_JS,
      'ui',
      '--home',
      home,
      '--no-open',
      '--port',
      '0',
      '--root',
      shared,
      '--downloads',
      downloads,
      '--serve-port',
      '0',
    ],
    { cwd: REPO, env: { ...process.env, FERRY_DEBUG: '1', FERRY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  const stdout = new LineReader(child.stdout, `${opts.name}'s stdout`);
  const stderr = new LineReader(child.stderr, `${opts.name}'s stderr`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const context = (): string => `\nstdout: ${stdout.all()}\nstderr: ${stderr.all()}`;

  const stop = async (graceMs = 8000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> => {
    const t0 = Date.now();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const r = await exited;
    clearTimeout(timer);
    return { ...r, ms: Date.now() - t0 };
  };

  try {
    const [ui, listening] = await Promise.all([
      stdout.waitFor(/^ui at (http:\/\/\S+)\s*$/, 20_000, context),
      stdout.waitFor(/^listening on (\S+)\s*$/, 20_000, context),
    ]);
    return {
      name: opts.name,
      dir,
      home,
      shared,
      downloads,
      url: ui[1]!,
      address: listening[1]!,
      child,
      stdout,
      stderr,
      stop,
      async dispose() {
        await stop();
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      },
    };
  } catch (e) {
    await stop(1000);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
