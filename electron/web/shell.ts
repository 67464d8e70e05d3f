/**
 * The browser shell: the built renderer and the contract over a WebSocket, for machines without
 * Electron and for end-to-end tests. It is a door into the engine (send any file, overwrite any
 * shared folder setting), so it is locked three ways:
 *
 * - it listens on 127.0.0.1 only;
 * - every request needs the random token, as `?token=` (the URL `ferry ui` prints) or as the
 *   HttpOnly SameSite=Strict cookie the index page sets, so the page's own asset and WebSocket
 *   requests carry it;
 * - the Host header must be 127.0.0.1:PORT or localhost:PORT (a DNS-rebinding page arrives with
 *   its own name), and a WebSocket's Origin must be this shell's own (another site's page may
 *   open a WebSocket to any port, and browsers send cookies with it).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { FerryError } from '../../shared/errors.js';
import { WS_PATH } from '../../shared/ws-protocol.js';
import type { FerryApp } from '../core/app/app-service.js';
import { attachPage, type PageSocketOptions } from './page-socket.js';
import { contentType, headerCsp, resolveStatic } from './static.js';

export interface WebShellOptions extends PageSocketOptions {
  app: FerryApp;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** The built renderer: dist/renderer. */
  rendererDir: string;
}

export interface WebShell {
  /** `http://127.0.0.1:PORT/?token=TOKEN`: the one address that opens the UI. */
  url: string;
  port: number;
  token: string;
  /** Stop serving and drop every page's socket (the app stays up: it belongs to the caller). */
  close(): Promise<void>;
}

/**
 * Largest WebSocket message taken from a page. The biggest legitimate one is a read reply: one
 * block (at most 16 MiB) plus its id; an upload request listing 100,000 entries stays well below.
 */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

const HOST = '127.0.0.1';

export async function startWebShell(opts: WebShellOptions): Promise<WebShell> {
  const rendererDir = path.resolve(opts.rendererDir);
  const token = randomBytes(24).toString('base64url');
  const tokenBytes = Buffer.from(token);
  let indexHtml: string | undefined;
  try {
    indexHtml = fs.readFileSync(path.join(rendererDir, 'index.html'), 'utf8');
  } catch {
    // Served as 404 below; the CSP falls back to the default policy.
  }
  const csp = headerCsp(indexHtml);

  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  await new Promise<void>((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException): void => {
      const taken = e.code === 'EADDRINUSE' || e.code === 'EACCES';
      reject(
        taken
          ? new FerryError(
              'FERRY_ERR_BAD_ARGUMENT',
              `Port ${opts.port} on ${HOST} is not available for the UI: choose another, or 0 for any free one`,
              { cause: e },
            )
          : e,
      );
    };
    server.once('error', fail);
    server.listen(opts.port ?? 0, HOST, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const cookieName = `ferry_token_${port}`; // cookies ignore ports: one name per shell
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const tokenOk = (candidate: string | undefined | null): boolean => {
    if (!candidate) return false;
    const b = Buffer.from(candidate);
    return b.length === tokenBytes.length && timingSafeEqual(b, tokenBytes);
  };
  const authorised = (req: http.IncomingMessage, query: URLSearchParams): boolean =>
    tokenOk(query.get('token')) || tokenOk(readCookie(req.headers.cookie, cookieName));
  const hostOk = (req: http.IncomingMessage): boolean => hosts.has((req.headers.host ?? '').toLowerCase());

  server.on('request', (req, res) => {
    const { rawPath, query } = splitTarget(req.url);
    const deny = (status: number, text: string): void => {
      res.writeHead(status, {
        ...securityHeaders(csp),
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      res.end(`${text}\n`);
    };
    if (!hostOk(req)) return deny(403, 'Forbidden: this server answers only to 127.0.0.1 and localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return deny(405, 'Method not allowed');
    }
    if (!authorised(req, query))
      return deny(403, 'Forbidden: open the address that "ferry ui" printed; it carries the access token');
    void resolveStatic(rendererDir, rawPath).then((found) => {
      if (!found) return deny(404, 'Not found');
      const { file, size } = found;
      const headers: http.OutgoingHttpHeaders = {
        ...securityHeaders(csp),
        'Content-Type': contentType(file),
        'Content-Length': size,
        'Cache-Control': 'no-cache',
      };
      if (tokenOk(query.get('token'))) {
        headers['Set-Cookie'] = `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      }
      const stream = fs.createReadStream(file);
      stream.once('error', () => {
        if (!res.headersSent) deny(404, 'Not found');
        else res.destroy();
      });
      stream.once('open', () => {
        res.writeHead(200, headers);
        if (req.method === 'HEAD') {
          stream.destroy();
          res.end();
        } else {
          stream.pipe(res);
        }
      });
    });
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const { rawPath, query } = splitTarget(req.url);
    if (rawPath !== WS_PATH) return refuse(socket, 404, 'Not Found');
    if (!hostOk(req) || !origins.has(req.headers.origin ?? '') || !authorised(req, query))
      return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => attachPage(ws, opts.app, opts));
  });

  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function securityHeaders(csp: string): http.OutgoingHttpHeaders {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Answer a refused WebSocket upgrade with a plain HTTP status and hang up. */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n`,
  );
}

/**
 * The request target's path exactly as sent, and its query. Not through `new URL()`: that would
 * quietly turn `/%2e%2e/` into `/` (and throws on some targets a client may send).
 */
function splitTarget(target: string | undefined): { rawPath: string; query: URLSearchParams } {
  const t = target ?? '/';
  const q = t.indexOf('?');
  return q < 0
    ? { rawPath: t, query: new URLSearchParams() }
    : { rawPath: t.slice(0, q), query: new URLSearchParams(t.slice(q + 1)) };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
