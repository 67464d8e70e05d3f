/**
 * Bench child, the no-protocol baseline's receiving half: listens on 127.0.0.1, takes one
 * connection and pipes it into a file write stream (1 MiB highWaterMark, like the sender), or
 * into its stdout (a tar extracting). With --fsync it fsyncs the file before closing it, the
 * same durability Ferry gives each file before the file takes its final name.
 *
 *   node dist/test/bench/raw-recv.js FILE [--fsync]     (FILE '-' writes stdout)
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { errorText, exitWithParent, finish, tell } from './ipc.js';

const RAW_CHUNK = 1024 * 1024;

async function receive(socket: net.Socket, file: string, fsync: boolean): Promise<void> {
  if (file === '-') {
    await pipeline(socket, process.stdout);
    return;
  }
  const fd = fs.openSync(file, 'w');
  try {
    await pipeline(socket, fs.createWriteStream('', { fd, autoClose: false, highWaterMark: RAW_CHUNK }));
    if (fsync) await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    fs.closeSync(fd);
  }
}

async function main(): Promise<void> {
  exitWithParent();
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) throw new Error('usage: raw-recv FILE|- [--fsync]');
  const fsync = args.includes('--fsync');
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  await tell({ type: 'ready', port: (server.address() as net.AddressInfo).port });
  const [socket] = await accepted;
  server.close();
  const t0 = performance.now();
  await receive(socket, file, fsync);
  await tell({ type: 'done', ok: true, seconds: (performance.now() - t0) / 1000 });
  await finish(0);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`raw-recv: ${errorText(err)}\n`);
  await tell({ type: 'done', ok: false, detail: errorText(err) }).catch(() => undefined);
  await finish(1);
});
