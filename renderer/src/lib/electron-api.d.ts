/**
 * What the Electron preload exposes on `window.ferry` (contextBridge). The preload is written to
 * exactly this shape; only lib/bridge.ts reads it.
 */
import type { EventName, Events, RequestArg, RequestName, RequestResult, Result } from '../../../shared/contract.js';

export interface FerryPreloadApi {
  request<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<Result<RequestResult<K>>>;
  on<E extends EventName>(name: E, cb: (payload: Events[E]) => void): () => void;
  /** webUtils.getPathForFile: the absolute path of a dropped or picked File. */
  pathForFile(file: File): string;
  platform: string;
}

declare global {
  interface Window {
    ferry?: FerryPreloadApi;
  }
}
