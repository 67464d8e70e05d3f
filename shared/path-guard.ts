/**
 * The one guard every path that comes from a remote peer goes through, before it is joined to a
 * local folder, listed, read or written.
 *
 * A peer path is a *relative* path with `/` separators, e.g. `photos/2024/cat.jpg`. The guard
 * never repairs a path (no trimming, no normalising, no dropping of `.` parts): a path that is not
 * already in canonical form is refused, so one peer path names exactly one local file and two
 * different peer paths never alias the same file on any platform Ferry runs on.
 *
 * Models: croc's `receivefs/path.go` (refuse absolute paths, `..`, drive letters, separators of
 * the other platform) and Syncthing's `checkFilename` / `WindowsInvalidFilename` (reserved device
 * names, forbidden characters, trailing dots and spaces). Unlike a local path check, the rules of
 * *every* platform apply at once: a sender on Linux may legally have `CON` or `a:b`, but a Windows
 * receiver would open a device or an alternate data stream, so such names are refused everywhere.
 *
 * This module is pure ES2022 (no node APIs): it runs in the engine, the CLI and the renderer.
 * Symlinks are a separate question answered on disk by `electron/core/fs-guard.ts`.
 */

import { FerryError } from './errors.js';

/**
 * Longest name (one path component) in UTF-8 bytes. 255 bytes is the limit of ext4, APFS, XFS,
 * Btrfs and most others; a longer name could not be created on the receiver anyway, and refusing it
 * here gives a clear error instead of ENAMETOOLONG halfway through a transfer.
 */
export const MAX_NAME_BYTES = 255;

/**
 * Longest whole peer path in UTF-8 bytes. Matches Linux PATH_MAX; also bounds the work the guard
 * and the file system do for one request from a peer.
 */
export const MAX_PATH_BYTES = 4096;

/**
 * Most components a peer path may have. Deeper trees are not a real use case; the limit stops a
 * peer from making the receiver create (or walk) thousands of nested folders for one request.
 */
export const MAX_PATH_DEPTH = 128;

/**
 * Windows device names. Opening `CON`, `nul.txt` or `COM1.tar.gz` in any folder opens the device,
 * not a file, so a peer must never be able to name one. `COM¹`..`COM³` and `LPT¹`..`LPT³` (the
 * superscript digits) are device names too; `CONIN$` / `CONOUT$` are the console handles.
 * Compared upper-cased, on the part before the first dot with trailing spaces removed.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'CONIN$',
  'CONOUT$',
  ...['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '\u00b9', '\u00b2', '\u00b3'].flatMap((d) => [
    `COM${d}`,
    `LPT${d}`,
  ]),
]);

/** Characters Windows forbids in names (the separators `/` `\` and `:` are checked separately). */
const WINDOWS_FORBIDDEN = /[<>"|?*]/;

/** C0 control characters and DEL. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A drive-letter prefix: `C:`, `c:foo`, `C:\x`. */
const DRIVE_LETTER = /^[A-Za-z]:/;

/** Longest part of an offending path quoted in an error message. */
const QUOTE_LIMIT = 200;

/**
 * True for the names of Ferry's own hidden partial files: `.ferry-*` (temporary files),
 * `*.ferrypart` (a file being received) and `*.ferryjournal` (its resume journal).
 *
 * Folder listings hide these names, and {@link checkPeerPath} refuses them so that a peer can
 * neither read a half-received file nor overwrite or forge the journal of another transfer. The
 * comparison ignores ASCII case because on case-insensitive file systems (Windows, macOS)
 * `x.FERRYPART` is the same file as `x.ferrypart`.
 */
export function isHiddenPartialName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('.ferry-') || lower.endsWith('.ferrypart') || lower.endsWith('.ferryjournal');
}

/**
 * Joins peer path parts with `/`, skipping empty parts so that joining the root (`''`) with a name
 * gives the name, not `/name` (which the guard would refuse as absolute).
 * Parts are not checked: pass the result to {@link checkPeerPath} if it came from a peer.
 */
export function joinPeerPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/**
 * Checks a path received from a peer and returns its components (`'a/b/c.txt'` →
 * `['a', 'b', 'c.txt']`). The empty string names the root of the share and gives `[]`, but only
 * when `opts.allowRoot` is true (listing the root is fine; writing a file *as* the root is not).
 *
 * Throws `FerryError('FERRY_ERR_BAD_PATH')`, with the offending path quoted in the message, for:
 * - anything that is not a string (the peer's message is untrusted JSON);
 * - absolute paths (`/x`, `//server/share`, `\x`): joined naively they would ignore the share;
 * - any backslash: a Windows receiver would treat it as a separator, so `a\..\..\x` would escape
 *   on Windows while looking like one harmless name on Linux;
 * - drive letters (`C:`, `c:foo`) and any `:` at all: `C:foo` is drive-relative on Windows and
 *   `file:stream` opens an NTFS alternate data stream (`file::$DATA` is the file itself);
 * - control characters U+0000–U+001F and U+007F: NUL truncates paths in C APIs, newlines forge
 *   log lines and terminal output, and Windows forbids all of them;
 * - empty components (`a//b`, a trailing `/`), `.` and `..`: traversal, and non-canonical
 *   spellings that would alias another path;
 * - Windows device names (`CON`, `nul.txt`, `COM1`, `LPT¹`, `CONIN$`, ... any case, any
 *   extension, trailing spaces);
 * - names ending in `.` or space: Windows strips them, so `a.` and `a ` would alias `a`;
 * - the characters `< > " | ? *`, which Windows forbids (and `?`/`*` are wildcards);
 * - lone surrogates (invalid UTF-16): they cannot be encoded as UTF-8 file names, and different
 *   layers would replace them differently, so two names could alias;
 * - names of Ferry's own partial files ({@link isHiddenPartialName});
 * - a component over {@link MAX_NAME_BYTES}, a path over {@link MAX_PATH_BYTES} UTF-8 bytes, or
 *   more than {@link MAX_PATH_DEPTH} components.
 *
 * Names are deliberately NOT Unicode-normalised: `café` in NFC and in NFD are two legal, distinct
 * names and must round-trip unchanged, or a file could never be fetched back under its own name.
 */
export function checkPeerPath(path: unknown, opts?: { allowRoot?: boolean }): string[] {
  if (typeof path !== 'string') {
    const kind = path === null ? 'null' : Array.isArray(path) ? 'an array' : `a ${typeof path}`;
    throw badPath(`A path from the peer must be text, but it sent ${kind}.`);
  }
  const q = quote(path);
  if (path === '') {
    if (opts?.allowRoot) return [];
    throw badPath('The peer sent an empty path, which would name the shared folder itself.');
  }
  if (CONTROL_CHARS.test(path)) {
    throw badPath(`The path ${q} contains a control character (such as NUL or a line break).`);
  }
  if (path.startsWith('/') || path.startsWith('\\')) {
    throw badPath(`The path ${q} is absolute; a peer may only send paths relative to the shared folder.`);
  }
  if (DRIVE_LETTER.test(path)) {
    throw badPath(`The path ${q} starts with a drive letter; a peer may only send relative paths.`);
  }
  if (path.includes('\\')) {
    throw badPath(`The path ${q} contains a backslash; peer paths must use "/" as the only separator.`);
  }
  if (!isWellFormedUtf16(path)) {
    throw badPath(`The path ${q} is not valid Unicode (it contains a lone surrogate).`);
  }
  const pathBytes = utf8Length(path);
  if (pathBytes > MAX_PATH_BYTES) {
    throw badPath(`The path ${q} is ${pathBytes} bytes long; the limit is ${MAX_PATH_BYTES} bytes.`);
  }
  const components = path.split('/');
  if (components.length > MAX_PATH_DEPTH) {
    throw badPath(`The path ${q} is ${components.length} folders deep; the limit is ${MAX_PATH_DEPTH}.`);
  }
  for (const name of components) checkName(name, path, q);
  return components;
}

/** Per-component rules; `q` is the quoted whole `path`, for the message. */
function checkName(name: string, path: string, q: string): void {
  if (name === '') {
    throw badPath(`The path ${q} has an empty part (a doubled or trailing "/").`);
  }
  if (name === '.' || name === '..') {
    throw badPath(`The path ${q} contains "${name}"; peer paths may not use "." or "..".`);
  }
  // "The name "a:b" in "x/a:b"", or just "The name "a:b"" when the path is that one name.
  const n = name === path ? quote(name) : `${quote(name)} in ${q}`;
  if (name.includes(':')) {
    throw badPath(`The name ${n} contains ":", which Windows reads as a drive or an alternate data stream.`);
  }
  const forbidden = WINDOWS_FORBIDDEN.exec(name);
  if (forbidden) {
    throw badPath(`The name ${n} contains ${quote(forbidden[0])}, which Windows does not allow in names.`);
  }
  if (name.endsWith('.') || name.endsWith(' ')) {
    throw badPath(
      `The name ${n} ends with a dot or a space, which Windows silently removes (it would be the same file as another name).`,
    );
  }
  if (isReservedDeviceName(name)) {
    throw badPath(`The name ${n} is a reserved Windows device name.`);
  }
  if (isHiddenPartialName(name)) {
    throw badPath(`The name ${n} is reserved for Ferry's own partial files.`);
  }
  const bytes = utf8Length(name);
  if (bytes > MAX_NAME_BYTES) {
    throw badPath(`The name ${n} is ${bytes} bytes long; the limit is ${MAX_NAME_BYTES} bytes.`);
  }
}

/** `CON`, `con.txt`, `Com1.tar.gz`, `aux .x`: the part before the first dot, trailing spaces cut. */
function isReservedDeviceName(name: string): boolean {
  const dot = name.indexOf('.');
  const base = (dot === -1 ? name : name.slice(0, dot)).replace(/ +$/, '').toUpperCase();
  return RESERVED_NAMES.has(base);
}

/** True if every surrogate in `s` is part of a high+low pair (String.prototype.isWellFormed). */
function isWellFormedUtf16(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return false;
      i++; // skip the low half of the pair
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** UTF-8 byte length of a well-formed string (a lone surrogate counts 3, as U+FFFD would). */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** JSON-quotes a string for a message (escapes control chars and lone surrogates), shortened. */
function quote(s: string): string {
  if (s.length <= QUOTE_LIMIT) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, QUOTE_LIMIT))}… (${s.length} characters)`;
}

function badPath(message: string): FerryError {
  return new FerryError('FERRY_ERR_BAD_PATH', message);
}
