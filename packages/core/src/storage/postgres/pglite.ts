/**
 * `@proserver/core/pglite`: storage on embedded PGlite (PostgreSQL compiled to WASM, in
 * process), in memory or persisted to a folder.
 *
 * @example
 * import { createPgliteStorage } from '@proserver/core/pglite';
 * const storage = await createPgliteStorage({ dataDir: './.proserver' });
 */
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Storage } from '../ports.js';
import { migrate } from './migrations.js';
import { createPgStorage } from './pg-storage.js';
import { numberEventsAtAppend } from './pglite-events.js';
import { withNamedStatements } from './pglite-statements.js';
import { pgliteVacuum } from './pglite-vacuum.js';

export interface PgliteStorageOptions {
  /** Folder to persist to; omitted means in memory. */
  dataDir?: string;
  /** Start from a dump made by {@link dumpMigratedPglite} (fast: skips initdb). */
  loadDataDir?: Blob;
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
}

export async function createPgliteStorage(options: PgliteStorageOptions = {}): Promise<Storage> {
  const client = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  // Every statement prepared once (see pglite-statements.ts): PGlite's own query plans each call anew.
  const db = drizzle(withNamedStatements(client));
  let eventsNumberedAtAppend: boolean;
  try {
    if (options.migrate !== false) await migrate(db);
    eventsNumberedAtAppend = await numberEventsAtAppend(db);
  } catch (error) {
    await client.close();
    throw error;
  }
  return createPgStorage(db, 'pglite', () => client.close(), {
    vacuum: pgliteVacuum(client),
    eventsNumberedAtAppend,
  });
}

/**
 * A fresh in-memory PGlite with every migration applied, dumped as a tarball. Loading it
 * (`loadDataDir`) costs about a second, where a fresh initdb costs several: test suites make
 * one template and start every database from it.
 */
export async function dumpMigratedPglite(): Promise<Blob> {
  const client = await PGlite.create();
  try {
    await migrate(drizzle(client));
    return await client.dumpDataDir('gzip');
  } finally {
    await client.close();
  }
}

export { MIGRATIONS, migrate } from './migrations.js';
