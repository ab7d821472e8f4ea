import { sql } from 'drizzle-orm';
import { createInProcessNotifier } from '../memory/notifier.js';
import type { Notifier, Storage } from '../ports.js';
import { PgAuthStore } from './auth-store.js';
import type { PgDb } from './db.js';
import { PgDocStore } from './doc-store.js';
import { PgEventStore } from './event-store.js';
import { PgKvStore } from './kv-store.js';
import { PgTaskStore } from './task-store.js';

/**
 * Builds the stores on any drizzle PostgreSQL database (postgres driver or PGlite). Without a
 * `notifier` (PGlite: one process only) wake-ups stay in process.
 */
export function createPgStorage(
  db: PgDb,
  kind: 'pglite' | 'postgres',
  close: () => Promise<void>,
  notifier: Notifier = createInProcessNotifier(),
): Storage {
  let closed = false;
  return {
    kind,
    kv: new PgKvStore(db),
    auth: new PgAuthStore(db),
    tasks: new PgTaskStore(db),
    docs: new PgDocStore(db),
    events: new PgEventStore(db),
    notifier,
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
