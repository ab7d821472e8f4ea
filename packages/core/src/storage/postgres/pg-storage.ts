import { sql } from 'drizzle-orm';
import type { Storage } from '../ports.js';
import { PgAuthStore } from './auth-store.js';
import type { PgDb } from './db.js';
import { PgKvStore } from './kv-store.js';

/** Builds the stores on any drizzle PostgreSQL database (postgres driver or PGlite). */
export function createPgStorage(db: PgDb, kind: 'pglite' | 'postgres', close: () => Promise<void>): Storage {
  let closed = false;
  return {
    kind,
    kv: new PgKvStore(db),
    auth: new PgAuthStore(db),
    async ping() {
      await db.execute(sql`SELECT 1`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}
