/**
 * Bench child: connects to a Ferry server, waits for 'go', uploads the given paths with
 * FerryClient.upload and reports when the server confirmed that everything landed (the upload's
 * result only resolves after the receiver synced and renamed every file). Then reports its own
 * resource usage and exits.
 *
 * With --home and --expect, it connects over TLS 1.3 with the identity and trusted devices of
 * that home, and accepts only the server whose certificate has the SHA-256 EXPECT (hex): the
 * connection and its handshake happen before 'ready', so they are not timed, as for plain TCP.
 *
 *   node dist/test/bench/ferry-send.js PORT SOCKETS [--home HOME --expect HEX] PATH...
 */
import { parseArgs } from 'node:util';
import { FerryClient } from '../../electron/core/client.js';
import { loadIdentity, TrustStore } from '../../electron/core/identity/index.js';
import { errorText, exitWithParent, finish, fromParent, tell } from './ipc.js';

async function main(): Promise<void> {
  exitWithParent();
  const { values, positionals } = parseArgs({
    options: { home: { type: 'string' }, expect: { type: 'string' } },
    allowPositionals: true,
  });
  const [portText, socketsText, ...paths] = positionals;
  const port = Number(portText);
  const sockets = Number(socketsText);
  if (!Number.isInteger(port) || !Number.isInteger(sockets) || paths.length === 0 || !values.home !== !values.expect) {
    throw new Error('usage: ferry-send PORT SOCKETS [--home HOME --expect HEX] PATH...');
  }
  const tls = values.home
    ? {
        identity: loadIdentity(values.home),
        trust: TrustStore.load(values.home),
        expect: [Buffer.from(values.expect!, 'hex')],
      }
    : undefined;
  const client = await FerryClient.connect({ host: '127.0.0.1', port }, tls ? { tls } : {});
  // An encrypted row that silently ran in the clear would be a lie: the session must have seen
  // the pinned certificate.
  if (tls && !client.session.peer.fingerprint?.equals(tls.expect[0]!)) {
    throw new Error('the connection is not TLS with the pinned server (no matching peer fingerprint)');
  }
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
