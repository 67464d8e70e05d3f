/**
 * Where the built renderer is: dist/renderer of the ferry package, found by walking up from this
 * module, so the same code works from the sources (tests) and from dist/ (the `ferry` command).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the ferry package's package.json, above `fromUrl`. */
export function packageRoot(fromUrl: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(fromUrl));
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ferry') return dir;
    } catch {
      // not here; look one folder up
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`ferry's package.json was not found above ${fileURLToPath(fromUrl)}`);
    dir = up;
  }
}

/** dist/renderer, built by `npm run build` (FERRY_RENDERER_DIR points elsewhere, e.g. in tests). */
export function defaultRendererDir(): string {
  return process.env.FERRY_RENDERER_DIR || path.join(packageRoot(), 'dist', 'renderer');
}
