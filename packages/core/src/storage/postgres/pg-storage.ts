import { sql } from 'drizzle-orm';
import { createInProcessNotifier } from '../memory/notifier.js';
import type { Notifier, Storage } from '../ports.js';
import { PgAuthStore } from './auth-store.js';
import type { PgDb } from './db.js';
import { PgDocStore } from './doc-store.js';
import { PgEventStore } from './event-store.js';
import { PgKvStore } from './kv-store.js';
import { PgTaskStore } from './task-store.js';
import { drizzleTransactions, type Transact } from './transactions.js';

/**
 * Builds the stores on any drizzle PostgreSQL database (postgres driver or PGlite). Without a
 * `notifier` (PGlite: one process only) wake-ups stay in process; without `transact`,
 * transactions are drizzle's (see transactions.ts for the pipelined ones of the `postgres` driver).
 */
export function createPgStorage(
  db: PgDb,
  kind: 'pglite' | 'postgres',
  close: () => Promise<void>,
  notifier: Notifier = createInProcessNotifier(),
  transact: Transact = drizzleTransactions(db),
): Storage {
  let closed = false;
  return {
    kind,
    kv: new PgKvStore(db),
    auth: new PgAuthStore(db),
    tasks: new PgTaskStore(db),
    docs: new PgDocStore(db, transact),
    events: new PgEventStore(db, transact),
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
