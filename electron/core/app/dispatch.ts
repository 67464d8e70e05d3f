/**
 * One table from contract requests to the app service, used by every shell: the Electron IPC
 * handlers and the browser shell's WebSocket both end here, so a request behaves the same in
 * both. Arguments are checked at run time first; every answer is a Result, never a throw.
 */
import type { RequestArg, RequestName, RequestResult, Result } from '../../../shared/contract.js';
import { checkRequest } from '../../../shared/contract-check.js';
import { FerryError, toErrorInfo } from '../../../shared/errors.js';
import type { FerryApp, StreamReader } from './app-service.js';

/** What only a shell can provide: native dialogs (Electron), reads of dropped files (browser). */
export interface ShellContext {
  chooseFolder?: (title: string) => Promise<string | null>;
  chooseFiles?: (title: string) => Promise<string[]>;
  reader?: StreamReader;
}

type Handlers = {
  [K in RequestName]: (
    app: FerryApp,
    arg: RequestArg<K>,
    ctx: ShellContext,
  ) => RequestResult<K> | Promise<RequestResult<K>>;
};

const unsupported = (what: string): never => {
  throw new FerryError('FERRY_ERR_UNSUPPORTED', `${what} is not available in this window`);
};

const handlers: Handlers = {
  'device.get': (app) => app.device(),
  'device.update': (app, arg) => app.updateDevice(arg),
  'peers.list': (app) => app.peers(),
  'peers.add': (app, arg) => app.addPeer(arg.address),
  'peers.remove': (app, arg) => {
    app.removePeer(arg.id);
    return null;
  },
  'peers.check': (app, arg) => app.checkPeer(arg.id),
  'peers.pair': (app, arg) => app.pair(arg.id),
  'peers.permissions': (app, { id, ...patch }) => app.setPermissions(id, patch),
  'peers.untrust': (app, arg) => app.untrust(arg.id),
  'pairing.answer': (app, arg) => {
    app.answerPairing(arg.id, arg.approve, arg.permissions);
    return null;
  },
  'pairing.list': (app) => app.pendingPairings(),
  'uploads.answer': (app, arg) => {
    app.answerUpload(arg.id, arg.accept);
    return null;
  },
  'uploads.requests': (app) => app.pendingUploads(),
  'browse.list': (app, arg) => app.list(arg.peer, arg.path),
  'transfers.list': (app) => app.transfers(),
  'transfers.upload': (app, arg) => app.upload(arg.peer, arg.paths, arg.to, arg.conflict),
  'transfers.uploadStreamed': (app, arg, ctx) =>
    app.uploadStreamed(
      arg.peer,
      arg.to,
      arg.entries,
      ctx.reader ?? unsupported('Sending dropped files by stream'),
      arg.conflict,
    ),
  'transfers.download': (app, arg) => app.download(arg.peer, arg.paths, arg.conflict),
  'transfers.pause': (app, arg) => {
    app.pause(arg.id);
    return null;
  },
  'transfers.resume': (app, arg) => {
    app.resume(arg.id);
    return null;
  },
  'transfers.cancel': (app, arg) => {
    app.cancel(arg.id);
    return null;
  },
  'transfers.retry': (app, arg) => {
    app.retry(arg.id);
    return null;
  },
  'transfers.clear': (app) => {
    app.clearFinished();
    return null;
  },
  'live.get': (app, arg) => app.liveSnapshot(arg.id),
  'dialog.chooseFolder': (_app, arg, ctx) => (ctx.chooseFolder ?? unsupported('A folder picker'))(arg.title),
  'dialog.chooseFiles': (_app, arg, ctx) => (ctx.chooseFiles ?? unsupported('A file picker'))(arg.title),
};

export async function dispatch<K extends RequestName>(
  app: FerryApp,
  name: K,
  arg: unknown,
  ctx: ShellContext = {},
): Promise<Result<RequestResult<K>>> {
  try {
    if (!Object.prototype.hasOwnProperty.call(handlers, name))
      throw new FerryError('FERRY_ERR_BAD_ARGUMENT', `Unknown request ${String(name)}`);
    const checked = checkRequest(name, arg);
    const handler = handlers[name] as (
      app: FerryApp,
      arg: RequestArg<K>,
      ctx: ShellContext,
    ) => RequestResult<K> | Promise<RequestResult<K>>;
    return { ok: true, value: await handler(app, checked, ctx) };
  } catch (err) {
    const info = toErrorInfo(err);
    return { ok: false, error: info };
  }
}
