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
    // Most test files wait on processes, sockets and browsers rather than compute: vitest's
    // default (cores - 1, so one on a two-core CI machine) ran them one at a time, and the two
    // runs of .ci/run (Node 20, Node 24) neared CI's 30-minute budget. Three at once, from a fresh
    // clone on this two-core machine: Node 20 424 s (was 744), Node 24 292 s (was 576), the whole
    // .ci/run 12.6 minutes (was ~25.5). They pass under a load average of 17 too.
    maxWorkers: 3,
    // A liveness bound: a test that starts or restarts tsws inside its body waits out start-ups of
    // 7-32 s of wall time beside busy files on two cores (a flake hunt under load averages of 10-18).
    testTimeout: 60_000,
    // Starting Chromium or a server beside many busy test files on two cores can take this long.
    hookTimeout: 90_000,
  },
});
