import { chmod } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  // The `#!/usr/bin/env node` line is the first line of src/cli.ts; esbuild keeps an entry's
  // hashbang, so only dist/cli.js gets it (a tsup banner would stamp every entry and chunk).
  // The bin must be executable: `clean` recreates the file without npm's exec bit.
  onSuccess: async () => {
    await chmod('dist/cli.js', 0o755);
  },
});
