/**
 * Devices that know each other, through the `ferry` command as a person uses it: `ferry id`,
 * homes that do not trust each other, `ferry pair` against a `ferry serve` that asks, the
 * trusted devices list (`ferry trust`), pinning with `--trust`, and a damaged identity. Each
 * device is a home folder; several run on this one machine.
 *
 * `ferry serve` asks its questions on a terminal. Most tests have no terminal, so they run serve
 * with `--pairing stdin` (documented: answers are read from a pipe only when asked for
 * explicitly) and answer through its stdin; without it, serve must decline. One test gives serve
 * a real pseudo-terminal through util-linux `script`, where it is installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTLE_MS } from '../../electron/cli/prompt.js';
import { formatDeviceId } from '../../electron/core/identity/device-id.js';
import {
  assertBuilt,
  type CliResult,
  collect,
  FERRY_JS,
  ferryId,
  killAll,
  runFerry,
  type ServeProcess,
  spawnFerry,
  startServe,
} from '../helpers/cli.js';
import { makeTmp } from '../helpers/tmp.js';

/** A failure as the CLI promises it: exactly one stderr line, `ferry: ...`, nothing on stdout. */
function expectOneErrorLine(r: CliResult): void {
  expect(r.errLines, r.stderr).toHaveLength(1);
  expect(r.errLines[0]).toMatch(/^ferry: \S/);
  expect(r.stdout).toBe('');
}

interface Home {
  home: string;
  id: string;
}

/** A new device: a home folder with its identity made by `ferry id`. */
async function newDevice(): Promise<Home> {
  const home = path.join(makeTmp('ferry-cli-trust-'), 'home');
  return { home, id: await ferryId(home) };
}

interface TrustedJson {
  deviceId: string;
  name: string;
  permissions: { browse: boolean; send: boolean; autoAccept: boolean };
}

async function trustList(home: string): Promise<TrustedJson[]> {
  const r = await runFerry(['trust', 'ls', '--json', '--home', home]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as TrustedJson[];
}

const hostname = os.hostname();

beforeAll(() => assertBuilt());
afterAll(() => killAll());

describe('ferry id', () => {
  it("prints the same ID on every run, the fingerprint of the home's certificate; the key is 0600", async () => {
    const { home, id } = await newDevice();
    const [again, viaEnv] = await Promise.all([
      runFerry(['id', '--home', home]),
      runFerry(['id'], { env: { FERRY_HOME: home } }),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${id}\n`);
    expect(again.stderr).toBe('');
    expect(viaEnv.stdout).toBe(`${id}\n`);
    expect(id).toMatch(/^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/);
    const cert = new X509Certificate(fs.readFileSync(path.join(home, 'identity', 'cert.pem')));
    expect(id).toBe(formatDeviceId(createHash('sha256').update(cert.raw).digest()));
    if (process.platform !== 'win32') {
      expect(fs.statSync(path.join(home, 'identity', 'key.pem')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(home, 'identity')).mode & 0o777).toBe(0o700);
    }
    // Another home is another device.
    expect((await newDevice()).id).not.toBe(id);
  });

  it('a damaged identity: one `ferry:` line and exit 1 for every command, and the files are left as they were', async () => {
    const [badKey, noCert] = await Promise.all([newDevice(), newDevice()]);
    const keyFile = path.join(badKey.home, 'identity', 'key.pem');
    const pem = fs.readFileSync(keyFile, 'utf8');
    // Damage the key's body, keep its PEM frame: it reads like a key and is not one.
    fs.writeFileSync(keyFile, pem.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA'));
    fs.rmSync(path.join(noCert.home, 'identity', 'cert.pem'));
    const snapshot = (home: string): Record<string, string> =>
      Object.fromEntries(
        fs
          .readdirSync(home, { recursive: true, encoding: 'utf8' })
          .sort()
          .map((f) => {
            const p = path.join(home, f);
            return [f, fs.statSync(p).isDirectory() ? 'dir' : fs.readFileSync(p, 'base64')];
          }),
      );
    const before = [snapshot(badKey.home), snapshot(noCert.home)];
    const root = makeTmp('ferry-cli-trust-root-');
    const runs: Promise<CliResult>[] = [];
    for (const { home } of [badKey, noCert]) {
      runs.push(
        runFerry(['id', '--home', home]),
        runFerry(['ls', '127.0.0.1:1', '--home', home]),
        runFerry(['pair', '127.0.0.1:1', '--home', home]),
        runFerry(['serve', '--root', root, '--port', '0', '--home', home]),
      );
    }
    for (const r of await Promise.all(runs)) {
      expect(r.code, r.stderr).toBe(1);
      expectOneErrorLine(r);
    }
    // Never a new identity in place of the damaged one.
    expect([snapshot(badKey.home), snapshot(noCert.home)]).toEqual(before);
  });
});

describe('two devices that do not trust each other', () => {
  let server: ServeProcess;
  let s: Home;
  let c: Home;
  beforeAll(async () => {
    [s, c] = await Promise.all([newDevice(), newDevice()]);
    const root = makeTmp('ferry-cli-trust-root-');
    fs.writeFileSync(path.join(root, 'secret.txt'), 'not for strangers');
    server = await startServe(['--root', root, '--port', '0', '--home', s.home]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('ls, send and get fail with one line, and say to pair first', async () => {
    const file = path.join(makeTmp('ferry-cli-trust-src-'), 'x.txt');
    fs.writeFileSync(file, 'x');
    const out = makeTmp('ferry-cli-trust-out-');
    const results = await Promise.all([
      runFerry(['ls', server.address, '--home', c.home]),
      runFerry(['send', server.address, file, '--home', c.home]),
      runFerry(['get', server.address, 'secret.txt', '--out', out, '--home', c.home]),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(1);
      expectOneErrorLine(r);
      expect(r.errLines[0]).toContain(`ferry pair ${server.address}`);
      expect(r.errLines[0]).toContain(s.id); // who refused: the server, by its proven ID
    }
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('the server refuses a client it does not trust, even one that pins the server', async () => {
    const r = await runFerry(['ls', server.address, '--home', c.home, '--trust', s.id]);
    expect(r.code).toBe(1);
    expectOneErrorLine(r);
    // Said from this side: the server does not trust this device, named by its ID.
    expect(r.errLines[0]).toContain(c.id);
    expect(r.errLines[0]).toContain('--trust');
  });

  it('--trust with another ID: refused before anything is sent (IDENTITY_CHANGED), naming both IDs', async () => {
    const other = await newDevice();
    const r = await runFerry(['ls', server.address, '--home', c.home, '--trust', other.id]);
    expect(r.code).toBe(1);
    expectOneErrorLine(r);
    expect(r.errLines[0]).toContain(other.id); // the one expected
    expect(r.errLines[0]).toContain(s.id); // the one presented
  });

  it('pairing is declined, and said so on both sides, when serve has nobody to ask', async () => {
    const r = await runFerry(['pair', server.address, '--home', c.home]);
    expect(r.code).toBe(1);
    // The decline may cross the code on its way (the server's nonce goes out before it is asked).
    expect(r.errLines.at(-1)).toBe(`ferry: ${hostname} declined the pairing`);
    expect(r.errLines.slice(0, -1)).toEqual(
      r.errLines.length > 1 ? [`compare this code with the one shown on ${hostname} and approve there`] : [],
    );
    expect(await server.waitForStderr(/^declined a pairing request from /)).toContain(c.id);
    expect(await trustList(s.home)).toEqual([]);
    expect(await trustList(c.home)).toEqual([]);
  });
});

describe('ferry pair against ferry serve --pairing stdin', () => {
  let server: ServeProcess;
  let s: Home;
  let root: string;
  beforeAll(async () => {
    s = await newDevice();
    root = makeTmp('ferry-cli-pair-root-');
    fs.writeFileSync(path.join(root, 'shared.txt'), 'for paired devices');
    server = await startServe(['--root', root, '--port', '0', '--home', s.home, '--pairing', 'stdin'], {
      stdin: 'pipe',
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Start `ferry pair`, wait for serve's question, answer it; both sides' output. */
  async function pairAndAnswer(c: Home, answer: string): Promise<{ question: string; result: CliResult }> {
    const seen = server.stderr().length;
    const result = collect(spawnFerry(['pair', server.address, '--home', c.home]));
    const question = await server.waitForStderr(new RegExp(`^Pair with .* \\(${c.id}\\)\\? Code \\d{6}\\. \\[y/N\\]$`));
    expect(server.stderr().length).toBeGreaterThan(seen);
    server.stdin!.write(`${answer}\n`);
    return { question, result: await result };
  }

  it('both sides show the same code; approved, both trust each other and ls works; trust rm revokes at once', async () => {
    const c = await newDevice();
    const { question, result } = await pairAndAnswer(c, 'y');
    expect(result.code, result.stderr).toBe(0);
    const codeOnServe = /Code (\d{6})\./.exec(question)![1]!;
    expect(result.outLines).toEqual([
      `name: ${hostname}`,
      `device ID: ${s.id}`,
      `code: ${codeOnServe}`,
      `paired with ${hostname} (${s.id})`,
    ]);
    expect(result.errLines).toEqual([`compare this code with the one shown on ${hostname} and approve there`]);
    expect(await server.waitForStderr(/^paired with /)).toBe(`paired with ${hostname} (${c.id})`);
    const [onServer, onClient] = await Promise.all([trustList(s.home), trustList(c.home)]);
    expect(onServer.map((d) => [d.deviceId, d.name, d.permissions])).toEqual([
      [c.id, hostname, { browse: true, send: true, autoAccept: false }],
    ]);
    expect(onClient.map((d) => d.deviceId)).toEqual([s.id]);

    // Paired: no --trust needed any more.
    const list = await runFerry(['ls', server.address, '--home', c.home]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.outLines).toHaveLength(1);
    expect(list.outLines[0]).toMatch(/ shared\.txt$/);

    // Revoked on the server's home while it runs: its next request is refused.
    const rm = await runFerry(['trust', 'rm', c.id, '--home', s.home]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.outLines).toEqual([`removed ${hostname} (${c.id})`]);
    const after = await runFerry(['ls', server.address, '--home', c.home]);
    expect(after.code).toBe(1);
    expectOneErrorLine(after);
    expect(after.errLines[0]).toContain(c.id);
  });

  it('declined: exit 1 with one line, nobody trusts anybody; an answer written before the question does not count', async () => {
    const c = await newDevice();
    // A "y" waiting in the pipe before any question is read and thrown away, not kept for the
    // next question: otherwise a script could approve a pairing before its code was shown.
    server.stdin!.write('y\n');
    await new Promise((r) => setTimeout(r, 200));
    const { result } = await pairAndAnswer(c, 'n');
    expect(result.code).toBe(1);
    expect(result.errLines).toEqual([
      `compare this code with the one shown on ${hostname} and approve there`,
      `ferry: ${hostname} declined the pairing`,
    ]);
    expect(result.outLines.at(-1)).toMatch(/^code: \d{6}$/);
    expect(await server.waitForStderr(/^declined pairing with /)).toBe(`declined pairing with ${hostname} (${c.id})`);
    expect(await trustList(c.home)).toEqual([]);
    expect((await trustList(s.home)).map((d) => d.deviceId)).not.toContain(c.id);
  });
});

describe('ferry trust and serve --trust', () => {
  it('serve --trust adds the device; uploads wait for an answer (declined without a terminal); set and rm change what it may do', async () => {
    const [s, c] = await Promise.all([newDevice(), newDevice()]);
    const root = makeTmp('ferry-cli-perm-root-');
    const server = await startServe(['--root', root, '--port', '0', '--home', s.home, '--trust', c.id]);
    try {
      const listed = await runFerry(['trust', 'ls', '--home', s.home]);
      expect(listed.code).toBe(0);
      expect(listed.outLines[0]).toMatch(/^DEVICE ID +NAME +MAY +ADDED$/);
      expect(listed.outLines[1]).toMatch(
        new RegExp(`^${c.id}  \\(unnamed\\)  browse, send  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`),
      );

      const file = path.join(makeTmp('ferry-cli-perm-src-'), 'report.txt');
      fs.writeFileSync(file, 'twelve bytes');
      const send = (): Promise<CliResult> =>
        runFerry(['send', server.address, file, '--home', c.home, '--trust', s.id]);
      // Trusted, but not to send without asking, and serve has no terminal to ask on.
      const declined = await send();
      expect(declined.code).toBe(1);
      expectOneErrorLine(declined);
      expect(await server.waitForStderr(/^declined an upload of /)).toBe(
        `declined an upload of 1 file (12 B) from ${hostname} (${c.id}): nobody to ask (stdin is not a terminal); ` +
          `start ferry serve with --accept-uploads, or let that device send without asking: ferry trust set ${c.id} --auto-accept on`,
      );
      expect(fs.readdirSync(root)).toEqual([]);
      // The name it gave in its hello filled the name --trust could not know.
      expect((await trustList(s.home))[0]!.name).toBe(hostname);

      const set = await runFerry(['trust', 'set', c.id, '--auto-accept', 'on', '--browse', 'off', '--home', s.home]);
      expect(set.code, set.stderr).toBe(0);
      expect(set.outLines).toEqual([`${hostname} (${c.id}): may send, auto-accept`]);
      const accepted = await send();
      expect(accepted.code, accepted.stderr).toBe(0);
      expect(fs.readFileSync(path.join(root, 'report.txt'), 'utf8')).toBe('twelve bytes');
      // browse off: no listing, no download.
      const [ls, get] = await Promise.all([
        runFerry(['ls', server.address, '--home', c.home, '--trust', s.id]),
        runFerry(['get', server.address, 'report.txt', '--home', c.home, '--trust', s.id, '--out', makeTmp('o-')]),
      ]);
      for (const r of [ls, get]) {
        expect(r.code).toBe(1);
        expectOneErrorLine(r);
      }

      const [rm, rmAgain] = [
        await runFerry(['trust', 'rm', c.id, '--home', s.home]),
        await runFerry(['trust', 'rm', c.id, '--home', s.home]),
      ];
      expect(rm.code).toBe(0);
      expect(rmAgain.code).toBe(1);
      expectOneErrorLine(rmAgain);
      expect(await trustList(s.home)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('trust add names a device with its permissions; trust ls on an empty home says so on stderr', async () => {
    const home = path.join(makeTmp('ferry-cli-add-'), 'home');
    const empty = await runFerry(['trust', 'ls', '--home', home]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.errLines).toEqual([`(no trusted devices in ${home})`]);
    // The trusted list needs no identity: none is made.
    expect(fs.existsSync(path.join(home, 'identity'))).toBe(false);

    const other = await newDevice();
    const add = await runFerry([
      'trust',
      'add',
      other.id.toLowerCase(),
      '--name',
      'nas',
      '--browse',
      'off',
      '--home',
      home,
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.outLines).toEqual([`trusted nas (${other.id}): may send`]);
    expect(await trustList(home)).toMatchObject([
      { deviceId: other.id, name: 'nas', permissions: { browse: false, send: true, autoAccept: false } },
    ]);
    if (process.platform !== 'win32') expect(fs.statSync(path.join(home, 'trusted.json')).mode & 0o777).toBe(0o600);
  });
});

/** util-linux `script` runs a command on a pseudo-terminal: serve then sees a person's terminal. */
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));

/** `ferry serve ARGS...` on a pseudo-terminal; what it writes (stdout and stderr) as one text. */
function serveOnTerminal(args: string[]): {
  child: ChildProcess;
  text: () => string;
  waitFor: (re: RegExp) => Promise<RegExpExecArray>;
  type: (line: string) => void;
  stop: () => Promise<void>;
} {
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, FERRY_JS, 'serve', ...args].map(quote).join(' ');
  // detached: its own process group, so that stopping it reaches serve under script.
  const child = spawn(SCRIPT!, ['-qfec', command, '/dev/null'], { stdio: 'pipe', detached: true });
  let text = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    text += d;
    for (const w of waiters) w();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    text: () => text,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(text);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${String(re)} within 10 s; serve wrote: ${text}`));
        }, 10_000);
        waiters.add(check);
        check();
      }),
    // A person types the answer and presses Enter.
    type: (line) => void child.stdin.write(`${line}\r`),
    stop: async () => {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

describe('ferry serve in a terminal', () => {
  it.skipIf(!SCRIPT)(
    `asks to pair (name, ID, code) and about each upload, and does what the person answers${SCRIPT ? '' : ' (skipped: util-linux `script`, which gives ferry serve a terminal, is not installed)'}`,
    async () => {
      const [s, c] = await Promise.all([newDevice(), newDevice()]);
      const root = makeTmp('ferry-cli-tty-root-');
      const server = serveOnTerminal(['--root', root, '--port', '0', '--home', s.home]);
      try {
        const port = (await server.waitFor(/listening on 0\.0\.0\.0:(\d+)\r?\n/))[1]!;
        const address = `127.0.0.1:${port}`;
        // Typed before anything was asked: must not answer the question that comes next.
        server.type('n');
        const pairing = collect(spawnFerry(['pair', address, '--home', c.home]));
        const question = await server.waitFor(/Pair with (.+) \((\S+)\)\? Code (\d{6})\. \[y\/N\] $/);
        expect(question[2]).toBe(c.id);
        // A person reads the question before answering (faster answers count as typed ahead).
        await new Promise((r) => setTimeout(r, 2 * SETTLE_MS));
        server.type('y');
        const paired = await pairing;
        expect(paired.code, paired.stderr).toBe(0);
        expect(paired.outLines).toContain(`code: ${question[3]}`);
        await server.waitFor(/paired with .+\r\n/);

        const file = path.join(makeTmp('ferry-cli-tty-src-'), 'asked.txt');
        fs.writeFileSync(file, 'twelve bytes');
        const sending = runFerry(['send', address, file, '--home', c.home]);
        await server.waitFor(new RegExp(`upload from .+ \\(${c.id}\\) at 127\\.0\\.0\\.1:\\d+: asked\\.txt\\r\\n`));
        await server.waitFor(/Accept 1 file \(12 B\) from .+\? \[y\/N\] $/);
        server.type('y');
        const sent = await sending;
        expect(sent.code, sent.stderr).toBe(0);
        expect(fs.readFileSync(path.join(root, 'asked.txt'), 'utf8')).toBe('twelve bytes');

        fs.writeFileSync(file, 'other bytes!');
        const refused = runFerry(['send', address, file, '--home', c.home, '--conflict', 'overwrite']);
        // The second question (an answer typed before it is shown would not count).
        await server.waitFor(/Accept[\s\S]*Accept 1 file \(12 B\) from .+\? \[y\/N\] $/);
        server.type('n');
        const r = await refused;
        expect(r.code).toBe(1);
        expectOneErrorLine(r);
        expect(fs.readFileSync(path.join(root, 'asked.txt'), 'utf8')).toBe('twelve bytes');
      } finally {
        await server.stop();
      }
    },
  );
});
