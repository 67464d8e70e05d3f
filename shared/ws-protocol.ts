/**
 * How the browser shell carries the contract (shared/contract.ts) over one WebSocket. Text
 * messages are JSON of the types below; binary messages carry file bytes the engine asked the
 * page for (files dropped into a page have no path: the engine reads them on demand).
 *
 * page -> shell   {type:'request', id, name, arg}          a contract request
 * shell -> page   {type:'response', id, result}             its Result<T>
 * shell -> page   {type:'event', name, payload}             a contract event
 * shell -> page   {type:'read', id, handle, position, length}
 *                  read `length` bytes at `position` of the File the page registered as `handle`
 * page -> shell   binary: u32 big-endian read id, then the bytes (fewer only at end of file)
 * page -> shell   {type:'read-error', id, message}          the page could not read it
 *
 * The shell serves on 127.0.0.1 only, behind a random token: the page's URL is
 * http://127.0.0.1:PORT/?token=TOKEN and the socket is ws://127.0.0.1:PORT/ws?token=TOKEN.
 */
import type { EventName, Events, RequestName, Result } from './contract.js';

export interface WsRequest {
  type: 'request';
  id: number;
  name: RequestName;
  arg: unknown;
}

export interface WsResponse {
  type: 'response';
  id: number;
  result: Result<unknown>;
}

export interface WsEvent<E extends EventName = EventName> {
  type: 'event';
  name: E;
  payload: Events[E];
}

export interface WsRead {
  type: 'read';
  id: number;
  handle: number;
  position: number;
  length: number;
}

export interface WsReadError {
  type: 'read-error';
  id: number;
  message: string;
}

export type ToPage = WsResponse | WsEvent | WsRead;
export type FromPage = WsRequest | WsReadError;

/** Bytes of the read id at the start of a binary reply. */
export const READ_ID_BYTES = 4;
/** The shell's path for the WebSocket. */
export const WS_PATH = '/ws';
