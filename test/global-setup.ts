import { rm } from 'node:fs/promises';
import { PGLITE_TEMPLATE_ENV, writePgliteTemplate } from '../packages/core/src/testing/backends.js';

/** Builds the migrated PGlite template once per run; every PGlite test storage loads it. */
export default async function setup(): Promise<() => Promise<void>> {
  const file = await writePgliteTemplate();
  process.env[PGLITE_TEMPLATE_ENV] = file;
  return async () => {
    await rm(file, { force: true });
  };
}
