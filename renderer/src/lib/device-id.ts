/**
 * Device IDs as people see them: the full ID (8 groups of 7, as `ferry id` prints it) where it
 * is compared, and its first group, the short ID, in lists (as Syncthing shows them).
 */

/** The first group of a device ID. */
export function shortDeviceId(id: string): string {
  return id.replace(/[\s-]/g, '').slice(0, 7).toUpperCase();
}

/** A 6-digit pairing code as two groups of three, easier to read out and compare. */
export function codeGroups(code: string): [string, string] {
  return [code.slice(0, 3), code.slice(3)];
}

/** The host of a `host:port` address (IPv6 without its brackets). */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  const host = colon > 0 ? address.slice(0, colon) : address;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
