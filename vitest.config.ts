// vitest: unit tests beside their modules, cross-process tests in test/, shipped plugins' tests in plugins/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'plugins/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    // Starting Chromium or a server beside many busy test files on two cores can take this long.
    hookTimeout: 90_000,
  },
});
