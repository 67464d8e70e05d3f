/**
 * The browser shell's static files: the built renderer, and nothing else. A request path is
 * decoded once, resolved under the renderer folder and checked against it twice (before and
 * after links are resolved), so `..`, `%2e%2e`, `%2f` and a link pointing outside all end in 404.
 * Folders are never listed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** The type to send for a file; unknown kinds are plain bytes (with nosniff, never guessed). */
export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** True when `child` is `root` or inside it (both absolute and normalised). */
function within(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

export interface StaticFile {
  file: string;
  size: number;
}

/**
 * The file under `root` that the request path `rawPath` (as sent, still percent-encoded, without
 * the query) names, or null: outside the root, a folder, missing, or not decodable. `/` is
 * index.html. A `.` or `..` segment, encoded or not, is refused rather than normalised: the
 * renderer's own URLs never contain one.
 */
export async function resolveStatic(root: string, rawPath: string): Promise<StaticFile | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((seg) => seg === '.' || seg === '..')) return null;
  if (decoded === '/') decoded = '/index.html';
  if (decoded.endsWith('/')) return null; // a folder: no listings
  const rootAbs = path.resolve(root);
  const abs = path.resolve(rootAbs, '.' + decoded);
  if (!within(rootAbs, abs)) return null;
  try {
    // Again after links: a link inside the renderer folder must not lead out of it.
    const [realRoot, real] = await Promise.all([fs.promises.realpath(rootAbs), fs.promises.realpath(abs)]);
    if (!within(realRoot, real)) return null;
    const st = await fs.promises.stat(real);
    return st.isFile() ? { file: real, size: st.size } : null;
  } catch {
    return null;
  }
}

/** The policy when index.html carries none (the renderer's build is expected to have one). */
const FALLBACK_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/**
 * The Content-Security-Policy header for the shell: the renderer's own `<meta http-equiv>` policy,
 * so that the browser shell and the Electron window enforce the same one, plus
 * `frame-ancestors 'none'`, which a meta tag cannot carry.
 */
export function headerCsp(indexHtml: string | undefined): string {
  const meta = indexHtml ? metaCsp(indexHtml) : undefined;
  const base = (meta ?? FALLBACK_CSP).trim().replace(/;\s*$/, '');
  return /(^|;)\s*frame-ancestors\b/i.test(base) ? base : `${base}; frame-ancestors 'none'`;
}

/** The content of `<meta http-equiv="Content-Security-Policy" content="...">`, if any. */
export function metaCsp(html: string): string | undefined {
  for (const tag of html.match(/<meta\b[^>]*>/gi) ?? []) {
    if (!/http-equiv\s*=\s*["']?content-security-policy["'\s>/]/i.test(tag)) continue;
    const m = /\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag);
    const value = m?.[1] ?? m?.[2];
    if (value)
      return value
        .replace(/&quot;/g, '"')
        .replace(/&#39;|&apos;/g, "'")
        .replace(/&amp;/g, '&');
  }
  return undefined;
}
