/** Svelte options for the renderer (vite.config.ts, vitest.config.ts and svelte-check read it). */
export default {
  compilerOptions: {
    // Runes everywhere: no legacy reactivity by accident.
    runes: true,
  },
};
