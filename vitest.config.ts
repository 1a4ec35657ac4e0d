import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores in CI: Docker-heavy files must not all run at once.
    maxWorkers: 2,
  },
});
