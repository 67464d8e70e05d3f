/** Parsing `host:port` peer addresses: a name, an IPv4 address, or an IPv6 address in brackets. */
import { FerryError } from './errors.js';

export interface PeerAddress {
  host: string;
  port: number;
}

/** `example.local:7000`, `127.0.0.1:7000`, `[::1]:7000`. Throws FERRY_ERR_BAD_ARGUMENT. */
export function parsePeerAddress(s: string): PeerAddress {
  const bad = (why: string): never => {
    throw new FerryError(
      'FERRY_ERR_BAD_ARGUMENT',
      `"${s}" is not a peer address (${why}); write host:port, e.g. 127.0.0.1:7000 or [::1]:7000`,
    );
  };
  const text = s.trim();
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) bad('missing ]');
    host = text.slice(1, close);
    if (text[close + 1] !== ':') bad('missing port');
    portText = text.slice(close + 2);
    if (!/^[0-9a-fA-F:.]+(%[\w.-]+)?$/.test(host) || !host.includes(':')) bad('bad IPv6 address');
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) bad('missing port');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) bad('put an IPv6 address in brackets');
    if (!/^[A-Za-z0-9.-]+$/.test(host)) bad('bad host name');
  }
  if (!/^\d{1,5}$/.test(portText)) bad('bad port');
  const port = Number(portText);
  if (port < 1 || port > 65535) bad('port out of range');
  return { host, port };
}

/** The canonical text form: IPv6 in brackets. */
export function formatPeerAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
