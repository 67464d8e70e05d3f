/**
 * Bench child: a Ferry server rooted at argv[2]. Reports its port, then each transfer's outcome
 * as it ends; on 'stop' it closes, reports its own resource usage and exits.
 *
 *   node dist/test/bench/ferry-serve.js ROOT      (forked by bench.js, which owns the IPC channel)
 */
import { FerryServer } from '../../electron/core/server.js';
import { errorText, exitWithParent, finish, fromParent, tell } from './ipc.js';

async function main(): Promise<void> {
  exitWithParent();
  const root = process.argv[2];
  if (!root) throw new Error('usage: ferry-serve ROOT');
  const server = await FerryServer.start({ root });
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
