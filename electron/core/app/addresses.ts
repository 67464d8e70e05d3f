/**
 * The addresses another device can use to reach this one: with the server on every interface,
 * each LAN IPv4 address with the port; on one address, that address.
 */
import * as os from 'node:os';
import { formatPeerAddress } from '../../../shared/peer-address.js';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** True for the "every interface" hosts. */
export function isWildcardHost(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * This machine's IPv4 addresses on its networks (no loopback), link-local (169.254/16, a
 * network without DHCP) last: the most likely to work first.
 */
export function lanAddresses(interfaces: Interfaces = os.networkInterfaces()): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal && !out.includes(a.address)) out.push(a.address);
    }
  }
  const linkLocal = (ip: string): number => (ip.startsWith('169.254.') ? 1 : 0);
  return out.sort((x, y) => linkLocal(x) - linkLocal(y));
}

/**
 * Every `host:port` a peer can use, the one to show first at the head: the LAN addresses when
 * `host` is every interface (127.0.0.1 when there is no network), else `host` itself.
 */
export function reachableAddresses(host: string, port: number, interfaces?: Interfaces): string[] {
  if (!isWildcardHost(host)) return [formatPeerAddress({ host, port })];
  const lan = lanAddresses(interfaces);
  return (lan.length > 0 ? lan : ['127.0.0.1']).map((ip) => formatPeerAddress({ host: ip, port }));
}
