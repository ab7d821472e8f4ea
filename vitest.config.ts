import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources; the child-process tests use the built dist instead.
    alias: [
      { find: /^@proserver\/core\/memory$/, replacement: src('./packages/core/src/storage/memory/index.ts') },
      { find: /^@proserver\/core\/postgres$/, replacement: src('./packages/core/src/storage/postgres/postgres.ts') },
      { find: /^@proserver\/core\/pglite$/, replacement: src('./packages/core/src/storage/postgres/pglite.ts') },
      { find: /^@proserver\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@proserver\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@proserver\/http$/, replacement: src('./packages/http/src/index.ts') },
      { find: /^@proserver\/sdk$/, replacement: src('./packages/sdk/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    unstubEnvs: true,
  },
});
