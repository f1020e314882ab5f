// vitest: unit tests beside their modules, cross-process tests in test/, shipped plugins' tests in plugins/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { PUBLIC_ENTRIES } from './server/base/paths.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  // The package's public specifiers resolve to the sources here, as the tsconfig's "paths" say (package.json's exports name dist/, which only npm pack builds).
  resolve: {
    alias: Object.entries(PUBLIC_ENTRIES).map(([specifier, module]) => ({ find: new RegExp(`^${specifier}$`), replacement: here(`./server/${module}.ts`) })),
  },
  test: {
    include: ['server/**/*.test.ts', 'plugins/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    // Starting Chromium or a server beside many busy test files on two cores can take this long.
    hookTimeout: 90_000,
  },
});
