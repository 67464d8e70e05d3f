/**
 * The renderer's unit tests (test/unit/renderer/): Svelte components and rune classes under
 * jsdom. Used as a project of the root vitest.config.ts, so `npm test` runs them with the rest.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineProject } from 'vitest/config';

export default defineProject({
  root: fileURLToPath(new URL('..', import.meta.url)),
  plugins: [svelte({ configFile: fileURLToPath(new URL('./svelte.config.js', import.meta.url)) }), svelteTesting()],
  // Svelte's browser build, not its server build: components are mounted in jsdom.
  resolve: { conditions: ['browser'] },
  test: {
    name: 'renderer',
    root: fileURLToPath(new URL('..', import.meta.url)),
    environment: 'jsdom',
    include: ['test/unit/renderer/**/*.test.ts'],
    setupFiles: ['test/unit/renderer/setup.ts'],
  },
});
