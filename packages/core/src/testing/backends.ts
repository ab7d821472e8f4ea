/**
 * Storage backends for tests: memory, PGlite (started from a migrated template, so no test
 * pays for initdb) and the real PostgreSQL server (each storage in its own schema, so test
 * files run in parallel; dropped on close).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStorage } from '../storage/memory/index.js';
import type { Storage } from '../storage/ports.js';
import { createPgliteStorage, dumpMigratedPglite } from '../storage/postgres/pglite.js';
import { createPostgresStorage } from '../storage/postgres/postgres.js';

export type BackendName = 'memory' | 'pglite' | 'postgres';

/** memory and pglite always; postgres when `DATABASE_URL` is set. */
export function testBackendNames(): BackendName[] {
  return process.env.DATABASE_URL ? ['memory', 'pglite', 'postgres'] : ['memory', 'pglite'];
}

/** Environment variable naming a template file made by {@link writePgliteTemplate}. */
export const PGLITE_TEMPLATE_ENV = 'PROSERVER_PGLITE_TEMPLATE';

let templatePromise: Promise<Blob> | undefined;

function pgliteTemplate(): Promise<Blob> {
  templatePromise ??= (async () => {
    const file = process.env[PGLITE_TEMPLATE_ENV];
    if (file) return new Blob([await readFile(file)]);
    return dumpMigratedPglite();
  })();
  return templatePromise;
}

/** Makes a migrated PGlite template file once (e.g. in a vitest globalSetup); returns its path. */
export async function writePgliteTemplate(dir: string = tmpdir()): Promise<string> {
  const file = join(dir, `proserver-pglite-template-${process.pid}-${Date.now()}.tar.gz`);
  const blob = await dumpMigratedPglite();
  const partial = `${file}.partial`;
  await writeFile(partial, Buffer.from(await blob.arrayBuffer()));
  await rename(partial, file);
  return file;
}

/** A fresh, empty, migrated storage of the given backend. Close it to release (and drop) it. */
export async function createTestStorage(name: BackendName): Promise<Storage> {
  switch (name) {
    case 'memory':
      return createMemoryStorage();
    case 'pglite':
      return createPgliteStorage({ loadDataDir: await pgliteTemplate() });
    case 'postgres':
      return createSchemaStorage();
  }
}

async function createSchemaStorage(): Promise<Storage> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: the PostgreSQL backend needs a server');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  let storage: Storage;
  try {
    storage = await createPostgresStorage({ url, schema, max: 4 });
  } catch (error) {
    throw new Error(
      `cannot reach PostgreSQL at ${url} (${String(error)}). Start it with: ` +
        'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  }
  return {
    ...storage,
    kv: storage.kv,
    auth: storage.auth,
    tasks: storage.tasks,
    docs: storage.docs,
    notifier: storage.notifier,
    async close() {
      await storage.close();
      const { default: postgres } = await import('postgres');
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
