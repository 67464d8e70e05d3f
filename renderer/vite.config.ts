/**
 * Builds the Svelte renderer into dist/renderer/ (index.html + assets). Relative asset paths
 * (base './'): Electron loads the page from a file:// URL and the browser shell serves the folder
 * at its own root.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [svelte()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One small app: a single JS and a single CSS file keep the CSP and the shells simple.
    assetsInlineLimit: 0,
  },
  server: { host: '127.0.0.1' },
});
