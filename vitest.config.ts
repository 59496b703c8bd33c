import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/no-leftovers.ts'],
    setupFiles: ['test/support/no-leaks-per-file.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real children and real signals: two cores, so two files at a time keeps timings sane.
    maxWorkers: 2,
  },
});
