import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'storage/memory/index': 'src/storage/memory/index.ts',
    'storage/postgres/postgres': 'src/storage/postgres/postgres.ts',
    'storage/postgres/pglite': 'src/storage/postgres/pglite.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm'],
  target: 'node20',
  dts: true,
  clean: true,
  sourcemap: true,
  external: ['postgres', '@electric-sql/pglite', 'vitest'],
});
