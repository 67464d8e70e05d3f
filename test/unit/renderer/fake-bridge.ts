/**
 * An in-memory bridge for renderer tests: requests are answered by handlers the test gives
 * (and recorded), events are emitted by the test. It implements the same Bridge interface as
 * the real ones, so the state classes and components cannot tell.
 */
import type { EventName, Events, RequestArg, RequestName, RequestResult } from '../../../shared/contract.js';
import { FerryError, type ErrorCode } from '../../../shared/errors.js';
import type { Bridge, ConnectionState } from '../../../renderer/src/lib/bridge.js';

type Handler<K extends RequestName> = (arg: RequestArg<K>) => RequestResult<K> | Promise<RequestResult<K>>;
export type Handlers = { [K in RequestName]?: Handler<K> };

export interface Call {
  name: RequestName;
  arg: unknown;
}

export class FakeBridge implements Bridge {
  readonly kind: 'electron' | 'web';
  readonly calls: Call[] = [];
  readonly files = new Map<number, File>();
  readonly #listeners = new Map<EventName, Set<(p: never) => void>>();
  readonly #connection = new Set<(s: ConnectionState) => void>();
  #handlers: Handlers;
  pathForFile?: (f: File) => string;
  registerFile?: (f: File) => number;

  constructor(kind: 'electron' | 'web', handlers: Handlers = {}) {
    this.kind = kind;
    this.#handlers = handlers;
    if (kind === 'electron') this.pathForFile = (f) => `/home/me/${f.name}`;
    else {
      let next = 1;
      this.registerFile = (f) => {
        const h = next++;
        this.files.set(h, f);
        return h;
      };
    }
  }

  handle<K extends RequestName>(name: K, handler: Handler<K>): void {
    (this.#handlers as Record<string, unknown>)[name] = handler;
  }

  async request<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>> {
    this.calls.push({ name, arg });
    const h = this.#handlers[name];
    if (!h) throw new FerryError('FERRY_ERR_UNSUPPORTED', `no handler for ${name}`);
    return h(arg);
  }

  on<E extends EventName>(name: E, cb: (p: Events[E]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(cb);
    return () => set.delete(cb);
  }

  onConnection(cb: (s: ConnectionState) => void): () => void {
    this.#connection.add(cb);
    cb('open');
    return () => this.#connection.delete(cb);
  }

  emit<E extends EventName>(name: E, payload: Events[E]): void {
    for (const cb of this.#listeners.get(name) ?? []) (cb as (p: Events[E]) => void)(payload);
  }

  setConnection(state: ConnectionState): void {
    for (const cb of this.#connection) cb(state);
  }

  listeners(name: EventName): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  callsOf(name: RequestName): unknown[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.arg);
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new FerryError(code, message);
}
