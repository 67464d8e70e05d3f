import { configDefaults, defineConfig } from 'vitest/config';

// CI (.ci/run) sets FERRY_VITEST_JSON to count results from vitest's JSON report.
const json = process.env.FERRY_VITEST_JSON;

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests use real sockets and real disks; two workers suit these 2-core machines.
    maxWorkers: 2,
    reporters: json ? ['default', 'json'] : ['default'],
    ...(json ? { outputFile: { json } } : {}),
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          // The renderer's tests run under jsdom with the Svelte plugin: their own project.
          exclude: [...configDefaults.exclude, 'test/unit/renderer/**'],
        },
      },
      './renderer/vitest.config.ts',
    ],
  },
});
