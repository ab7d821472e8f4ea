import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Storage } from '@proserver/core';
import type { ServerConfig } from './config.js';

/**
 * Opens (and migrates) the configured storage: PostgreSQL when `DATABASE_URL` is set, else
 * PGlite persisted in the data folder (created if missing). Drivers load only when used.
 *
 * @example
 * const storage = await openStorage(readConfig(process.env));
 */
export async function openStorage(config: Pick<ServerConfig, 'databaseUrl' | 'dataDir'>): Promise<Storage> {
  if (config.databaseUrl !== undefined) {
    const { createPostgresStorage } = await import('@proserver/core/postgres');
    return createPostgresStorage({ url: config.databaseUrl });
  }
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const { createPgliteStorage } = await import('@proserver/core/pglite');
  return createPgliteStorage({ dataDir });
}
