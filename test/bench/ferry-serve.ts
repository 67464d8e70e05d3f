/**
 * Bench child: a Ferry server rooted at ROOT. Reports its port, then each transfer's outcome
 * as it ends; on 'stop' it closes, reports its own resource usage and exits.
 *
 * With --home, it serves TLS 1.3 with the identity and the trusted devices list of that home
 * (made by bench.ts, which trusts the sending child with "send without asking", so no upload
 * waits for an answer: an upload that asked would be declined, as no one listens for 'upload').
 *
 *   node dist/test/bench/ferry-serve.js ROOT [--home HOME]   (forked by bench.js, which owns the IPC channel)
 */
import { parseArgs } from 'node:util';
import { loadIdentity, TrustStore } from '../../electron/core/identity/index.js';
import { FerryServer } from '../../electron/core/server.js';
import { errorText, exitWithParent, finish, fromParent, tell } from './ipc.js';

async function main(): Promise<void> {
  exitWithParent();
  const { values, positionals } = parseArgs({ options: { home: { type: 'string' } }, allowPositionals: true });
  const root = positionals[0];
  if (!root || positionals.length !== 1) throw new Error('usage: ferry-serve ROOT [--home HOME]');
  const tls = values.home ? { identity: loadIdentity(values.home), trust: TrustStore.load(values.home) } : undefined;
  const server = await FerryServer.start({ root, ...(tls ? { tls } : {}) });
  server.on('transfer', (t) => {
    void t.done().then((s) =>
      tell({
        type: 'transfer',
        state: s.state,
        filesLanded: s.filesLanded,
        ...(s.error ? { error: `${s.error.code}: ${s.error.message}` } : {}),
      }),
    );
  });
  server.on('connectionError', (err) => process.stderr.write(`ferry-serve: ${errorText(err)}\n`));
  await tell({ type: 'ready', port: server.address().port });
  await fromParent('stop');
  // close() waits for every connection; the client has normally gone already.
  await Promise.race([server.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
  await finish(0);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`ferry-serve: ${errorText(err)}\n`);
  await tell({ type: 'done', ok: false, detail: errorText(err) }).catch(() => undefined);
  await finish(1);
});
