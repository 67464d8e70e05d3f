/**
 * Bench child, the no-protocol baseline's sending half: connects, waits for 'go', then pipes a
 * file (read with a 1 MiB highWaterMark) or its stdin (a tar stream) into the socket and ends it.
 *
 *   node dist/test/bench/raw-send.js PORT FILE     (FILE '-' reads stdin)
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { errorText, exitWithParent, finish, fromParent, tell } from './ipc.js';

const RAW_CHUNK = 1024 * 1024;

async function main(): Promise<void> {
  exitWithParent();
  const [portText, file] = process.argv.slice(2);
  const port = Number(portText);
  if (!Number.isInteger(port) || !file) throw new Error('usage: raw-send PORT FILE|-');
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  await tell({ type: 'ready' });
  await fromParent('go');
  const t0 = performance.now();
  const source = file === '-' ? process.stdin : fs.createReadStream(file, { highWaterMark: RAW_CHUNK });
  await pipeline(source, socket);
  await tell({ type: 'done', ok: true, seconds: (performance.now() - t0) / 1000 });
  await finish(0);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`raw-send: ${errorText(err)}\n`);
  await tell({ type: 'done', ok: false, detail: errorText(err) }).catch(() => undefined);
  await finish(1);
});
