/**
 * Bench child: connects to a Ferry server, waits for 'go', uploads the given paths with
 * FerryClient.upload and reports when the server confirmed that everything landed (the upload's
 * result only resolves after the receiver synced and renamed every file). Then reports its own
 * resource usage and exits.
 *
 *   node dist/test/bench/ferry-send.js PORT SOCKETS PATH...
 */
import { FerryClient } from '../../electron/core/client.js';
import { errorText, exitWithParent, finish, fromParent, tell } from './ipc.js';

async function main(): Promise<void> {
  exitWithParent();
  const [portText, socketsText, ...paths] = process.argv.slice(2);
  const port = Number(portText);
  const sockets = Number(socketsText);
  if (!Number.isInteger(port) || !Number.isInteger(sockets) || paths.length === 0) {
    throw new Error('usage: ferry-send PORT SOCKETS PATH...');
  }
  const client = await FerryClient.connect({ host: '127.0.0.1', port });
  await tell({ type: 'ready' });
  await fromParent('go');
  const t0 = performance.now();
  const transfer = client.upload(paths, { sockets });
  const summary = await transfer.done();
  const seconds = (performance.now() - t0) / 1000;
  const ok = summary.state === 'done' && summary.filesFailed === 0;
  const detail = ok
    ? `${summary.filesLanded} files landed`
    : `state ${summary.state}, ${summary.filesFailed} failed${summary.error ? `: ${summary.error.code} ${summary.error.message}` : ''}${
        summary.failures[0] ? ` (first: ${summary.failures[0].path}: ${summary.failures[0].error.code})` : ''
      }`;
  await tell({ type: 'done', ok, detail, seconds, sockets: client.session.pool.size });
  client.close();
  await finish(0);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`ferry-send: ${errorText(err)}\n`);
  await tell({ type: 'done', ok: false, detail: errorText(err) }).catch(() => undefined);
  await finish(1);
});
