/**
 * Starting uploads from what a person dropped or picked. Electron hands the engine paths (it
 * walks folders and reads files itself); the browser shell hands it entries whose bytes the
 * page serves on demand (bridge.registerFile).
 */
import type { TransferView } from '../../../../shared/contract.js';
import { FerryError } from '../../../../shared/errors.js';
import type { Bridge } from '../bridge.js';
import { captureDrop, entriesFromFiles, resolveDrop, toStreamed, type PickedEntry } from '../drop.js';

export class Uploads {
  readonly #bridge: Bridge;
  readonly #report: (err: unknown) => void;

  constructor(bridge: Bridge, report: (err: unknown) => void) {
    this.#bridge = bridge;
    this.#report = report;
  }

  /** Send a drop. Reads the DataTransfer before its first await: browsers empty it after the event. */
  drop(peer: string, to: string, dt: DataTransfer): Promise<TransferView | undefined> {
    const pathFor = this.#bridge.pathForFile?.bind(this.#bridge);
    if (pathFor)
      return this.#paths(
        peer,
        to,
        [...dt.files].map((f) => pathFor(f)),
      );
    const payload = captureDrop(dt);
    return this.#stream(peer, to, () => resolveDrop(payload, Date.now()));
  }

  files(peer: string, to: string, files: File[]): Promise<TransferView | undefined> {
    const pathFor = this.#bridge.pathForFile?.bind(this.#bridge);
    if (pathFor)
      return this.#paths(
        peer,
        to,
        files.map((f) => pathFor(f)),
      );
    return this.#stream(peer, to, () => Promise.resolve(entriesFromFiles(files, Date.now())));
  }

  /** Electron's system dialogs. */
  async choose(peer: string, to: string, what: 'files' | 'folder'): Promise<TransferView | undefined> {
    try {
      const paths =
        what === 'files'
          ? await this.#bridge.request('dialog.chooseFiles', { title: 'Choose files to send' })
          : [await this.#bridge.request('dialog.chooseFolder', { title: 'Choose a folder to send' })].filter(
              (p): p is string => !!p,
            );
      if (paths.length === 0) return undefined;
      return await this.#bridge.request('transfers.upload', { peer, paths, to });
    } catch (err) {
      this.#report(err);
      return undefined;
    }
  }

  async #paths(peer: string, to: string, raw: string[]): Promise<TransferView | undefined> {
    const paths = raw.filter(Boolean);
    try {
      if (paths.length === 0)
        throw new FerryError(
          'FERRY_ERR_BAD_ARGUMENT',
          'Nothing to send: what was dropped is not a file or folder on this computer',
        );
      return await this.#bridge.request('transfers.upload', { peer, paths, to });
    } catch (err) {
      this.#report(err);
      return undefined;
    }
  }

  async #stream(peer: string, to: string, pick: () => Promise<PickedEntry[]>): Promise<TransferView | undefined> {
    const register = this.#bridge.registerFile?.bind(this.#bridge);
    try {
      if (!register) throw new FerryError('FERRY_ERR_UNSUPPORTED', 'This window cannot send dropped files');
      const picked = await pick();
      if (!picked.some((p) => p.kind === 'file'))
        throw new FerryError('FERRY_ERR_BAD_ARGUMENT', 'Nothing to send: no files were dropped');
      return await this.#bridge.request('transfers.uploadStreamed', {
        peer,
        to,
        entries: toStreamed(picked, register),
      });
    } catch (err) {
      this.#report(err);
      return undefined;
    }
  }
}
