import { defineConfig } from 'vitest/config';

/** The playground in a real browser (Chromium through playwright-core): npm run test:browser. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
