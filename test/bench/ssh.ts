/**
 * The scp baseline's server: a throwaway sshd on 127.0.0.1, made of files in a temporary folder
 * only (host key, client key, authorized_keys, sshd_config, pid file, log). It never reads or
 * writes /etc/ssh or ~/.ssh: sshd gets `-f` our config, the client gets `-F /dev/null` (no user
 * config, so no ~/.ssh either) and `UserKnownHostsFile=/dev/null`.
 *
 * One sshd per measured run, under GNU time, so that the receiving side's CPU (sshd, its
 * per-connection children and the in-process SFTP server, all reaped by it) is that run's alone.
 *
 * sshd run by root insists on its privilege separation directory, /run/sshd (a compile-time
 * path, normally made by the ssh service at boot). When it is missing and we are root, it is
 * created empty (0755) and removed again at the end; a non-root sshd does not need it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, type ProcUsage, ToolProcess, waitListening, which } from './procs.js';

/** The cipher scp is measured with: the fastest OpenSSH has with AES-NI, like Ferry's TLS suite. */
export const SCP_CIPHER = 'aes128-gcm@openssh.com';

const PRIVSEP_DIR = '/run/sshd';

export interface SshTools {
  sshd: string;
  scp: string;
  ssh: string;
  keygen: string;
}

/** The tools on this machine, or a note saying which is missing and how to get it. */
export function detectSsh(): { tools?: SshTools; note?: string } {
  // sshd lives in sbin, often not on a user's PATH.
  const sshd = which('sshd') ?? ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((p) => isExecutable(p));
  const scp = which('scp');
  const ssh = which('ssh');
  const keygen = which('ssh-keygen');
  const missing = [
    ...(sshd ? [] : ['sshd (Debian: openssh-server)']),
    ...(scp && ssh && keygen ? [] : ['scp/ssh/ssh-keygen (Debian: openssh-client)']),
  ];
  if (missing.length > 0) return { note: `scp baseline skipped: ${missing.join(' and ')} not installed.` };
  return { tools: { sshd: sshd!, scp: scp!, ssh: ssh!, keygen: keygen! } };
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.once('close', (code) => resolve({ code, output }));
    p.once('error', (err) => resolve({ code: -1, output: String(err) }));
  });
}

/** A running sshd; stop() ends it once its connections are over and returns what it cost. */
export interface RunningSshd {
  port: number;
  stop(): Promise<ProcUsage>;
}

export class SshLab {
  readonly user = os.userInfo().username;
  readonly cipher = SCP_CIPHER;
  readonly clientKey: string;
  private readonly config: string;
  private readonly pidFile: string;
  private readonly log: string;
  private madePrivsepDir = false;
  /** Wall seconds of a bare `ssh true` in prepare(): what connecting and logging in cost scp. */
  loginSeconds = 0;

  private constructor(
    readonly tools: SshTools,
    readonly dir: string,
  ) {
    this.clientKey = path.join(dir, 'client_key');
    this.config = path.join(dir, 'sshd_config');
    this.pidFile = path.join(dir, 'sshd.pid');
    this.log = path.join(dir, 'sshd.log');
  }

  /**
   * Keys and config in `dir` (an empty folder the caller removes), then one trial: start sshd,
   * `ssh true`, stop. Throws, with sshd's log, when this machine cannot run it (having undone
   * what it did outside `dir`); otherwise call cleanup() at the end.
   */
  static async prepare(tools: SshTools, dir: string): Promise<SshLab> {
    const lab = new SshLab(tools, dir);
    const hostKey = path.join(dir, 'host_key');
    for (const key of [hostKey, lab.clientKey]) {
      const r = await run(tools.keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-bench', '-f', key]);
      if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.output.trim()}`);
    }
    fs.copyFileSync(`${lab.clientKey}.pub`, path.join(dir, 'authorized_keys'));
    fs.writeFileSync(
      lab.config,
      [
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${lab.pidFile}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        // The temporary folder's modes are not what sshd expects of a home: do not check them.
        'StrictModes no',
        'UsePAM no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        // The bench may run as root (in a container): key only, as Debian's default.
        'PermitRootLogin prohibit-password',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        // scp speaks SFTP since OpenSSH 9.0; in-process, no login shell or rc files involved.
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    if (process.getuid?.() === 0 && !fs.existsSync(PRIVSEP_DIR)) {
      fs.mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
      lab.madePrivsepDir = true;
    }
    try {
      const sshd = await lab.start(dir);
      try {
        const t0 = performance.now();
        const r = await run(tools.ssh, [...lab.clientArgs('-p', sshd.port), `${lab.user}@127.0.0.1`, 'true']);
        lab.loginSeconds = (performance.now() - t0) / 1000;
        if (r.code !== 0) throw new Error(`ssh to the throwaway sshd failed: ${r.output.trim()} ${lab.logTail()}`);
        return lab;
      } finally {
        await sshd.stop();
      }
    } catch (err) {
      lab.cleanup();
      throw err;
    }
  }

  /** Undo what prepare() did outside its folder (the privilege separation directory). */
  cleanup(): void {
    if (this.madePrivsepDir) {
      try {
        fs.rmdirSync(PRIVSEP_DIR);
      } catch {
        // not empty or gone: leave it
      }
      this.madePrivsepDir = false;
    }
  }

  /** ssh / scp options: our key, no user config, no host key checks or records, the cipher. */
  clientArgs(portFlag: '-p' | '-P', port: number): string[] {
    return [
      '-F',
      '/dev/null',
      '-i',
      this.clientKey,
      portFlag,
      String(port),
      '-c',
      SCP_CIPHER,
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'LogLevel=ERROR',
    ];
  }

  private logTail(): string {
    try {
      const text = fs.readFileSync(this.log, 'utf8').trim();
      return text ? `(sshd log: ${text.split('\n').slice(-3).join(' / ')})` : '';
    } catch {
      return '';
    }
  }

  /** Start sshd on a free port of 127.0.0.1, in the foreground under GNU time; `work` takes time's report. */
  async start(work: string): Promise<RunningSshd> {
    fs.rmSync(this.pidFile, { force: true });
    const port = await freePort();
    const proc = new ToolProcess(
      'sshd',
      'recv',
      this.tools.sshd,
      ['-D', '-f', this.config, '-p', String(port), '-E', this.log],
      ['ignore', 'inherit'],
      work,
    );
    let exited = false;
    void proc.exited.then(() => (exited = true));
    const early = proc.exited.then(() => {
      throw new Error(`sshd exited at start ${this.logTail()}`);
    });
    let pid: number;
    try {
      await Promise.race([waitListening(port), early]);
      // sshd writes its pid file just after it starts listening.
      pid = await Promise.race([this.readPid(), early]);
    } catch (err) {
      // GNU time leads its own process group: end it and sshd together.
      if (!exited && proc.proc.pid !== undefined) process.kill(-proc.proc.pid, 'SIGKILL');
      await proc.exited;
      throw err;
    }
    let stopped: Promise<ProcUsage> | undefined;
    return {
      port,
      stop: () =>
        (stopped ??= (async () => {
          if (!exited) {
            await waitNoChildren(pid);
            try {
              process.kill(pid, 'SIGTERM');
            } catch {
              // already gone
            }
          }
          return proc.finalUsage();
        })()),
    };
  }

  private async readPid(): Promise<number> {
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      try {
        const pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0) return pid;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`sshd wrote no pid file ${this.pidFile} ${this.logTail()}`);
  }
}

/**
 * Wait (up to 5 s) until a process has no children left: sshd's per-connection processes end a
 * moment after the client, and their CPU counts only once sshd has reaped them.
 */
async function waitNoChildren(pid: number): Promise<void> {
  const file = `/proc/${pid}/task/${pid}/children`;
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      // No such file (gone, or a kernel without it): a short pause instead.
      await new Promise((r) => setTimeout(r, 200));
      return;
    }
    if (text.trim() === '') return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
