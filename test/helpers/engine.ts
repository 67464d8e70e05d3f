/** Helpers for engine tests: a real server on 127.0.0.1:0 with a temp root, and a connected client. */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FerryClient, type ConnectOptions } from '../../electron/core/client.js';
import { FerryServer, type ServerOptions } from '../../electron/core/server.js';

export interface Env {
  dir: string;
  root: string;
  src: string;
  server: FerryServer;
  client: FerryClient;
  cleanup(): Promise<void>;
}

export async function startEnv(serverOpts: Partial<ServerOptions> = {}, clientOpts: ConnectOptions = {}): Promise<Env> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-test-'));
  const root = path.join(dir, 'root');
  const src = path.join(dir, 'src');
  fs.mkdirSync(root);
  fs.mkdirSync(src);
  const server = await FerryServer.start({ root, ...serverOpts });
  const client = await FerryClient.connect(server.address().text, clientOpts);
  return {
    dir,
    root,
    src,
    server,
    client,
    async cleanup() {
      client.close();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function writeRandom(file: string, size: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  let left = size;
  while (left > 0) {
    const n = Math.min(left, 16 * 1024 * 1024);
    fs.writeSync(fd, randomBytes(n));
    left -= n;
  }
  fs.closeSync(fd);
}

/** Every entry under dir: relative path -> 'dir' or the file's sha256, plus mtimes (ms). */
export function snapshot(
  dir: string,
): Map<string, { kind: 'dir' | 'file'; hash?: string; mtime: number; size: number }> {
  const out = new Map<string, { kind: 'dir' | 'file'; hash?: string; mtime: number; size: number }>();
  const walk = (abs: string, rel: string): void => {
    for (const name of fs.readdirSync(abs).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(a);
      if (st.isDirectory()) {
        out.set(r, { kind: 'dir', mtime: Math.round(st.mtimeMs), size: 0 });
        walk(a, r);
      } else {
        out.set(r, { kind: 'file', hash: sha256(a), mtime: Math.round(st.mtimeMs), size: st.size });
      }
    }
  };
  walk(dir, '');
  return out;
}

/** Names of Ferry's hidden partial files anywhere under dir. */
export function partials(dir: string): string[] {
  const found: string[] = [];
  const walk = (abs: string): void => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      if (/\.ferry(part|journal)$|^\.ferry-/.test(d.name)) found.push(path.join(abs, d.name));
      if (d.isDirectory()) walk(path.join(abs, d.name));
    }
  };
  walk(dir);
  return found;
}
