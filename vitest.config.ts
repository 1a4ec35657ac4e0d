import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A safety net against hangs, not a speed check (speed is measured in `npm run bench`). On CI's 2 cores, with
    // two Docker-heavy files at once, tests that spawn several `agentdrift` processes ran 3-4x slower than here and
    // a 20 s limit cut one of them (cli.test.ts, five CLI runs) though it was doing nothing wrong.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores in CI: Docker-heavy files must not all run at once.
    maxWorkers: 2,
  },
});
