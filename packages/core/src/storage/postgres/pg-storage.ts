import { sql } from 'drizzle-orm';
import { EVENTS_CHANNEL } from '../../events/channels.js';
import { createInProcessNotifier } from '../memory/notifier.js';
import type { Notifier, Storage } from '../ports.js';
import { PgAuthStore } from './auth-store.js';
import type { PgDb } from './db.js';
import { PgDocStore } from './doc-store.js';
import { PgEventStore } from './event-store.js';
import { PgKvStore } from './kv-store.js';
import { PgTaskStore, type PipelinedWakeUps } from './task-store.js';
import { drizzleTransactions, type Transact } from './transactions.js';

/** What the `postgres` driver adds to a drizzle database (PGlite, in one process, has none of it). */
export interface PgServerFeatures {
  /** Wake-ups between processes (LISTEN/NOTIFY). */
  notifier: Notifier;
  /** Pipelined transactions on reserved connections. */
  transact: Transact;
  /** Wake-ups sent right behind the write that makes them due. */
  wakeUps: PipelinedWakeUps;
}

/** What one backend adds to the stores built on its database (both parts optional). */
export interface PgBackendExtras {
  /** The `postgres` driver's features (see PgServerFeatures). */
  server?: PgServerFeatures;
  /** The backend's own vacuum, where it has no autovacuum (PGlite; see Storage.vacuum). */
  vacuum?: () => Promise<void>;
  /** Events are numbered as they are appended (PGlite: see pglite-events.ts), not by sequencer passes. */
  eventsNumberedAtAppend?: boolean;
}

/**
 * Builds the stores on any drizzle PostgreSQL database (postgres driver or PGlite). Without
 * `server` (PGlite: one process only) wake-ups stay in process and transactions are drizzle's.
 */
export function createPgStorage(
  db: PgDb,
  kind: 'pglite' | 'postgres',
  close: () => Promise<void>,
  { server, vacuum, eventsNumberedAtAppend = false }: PgBackendExtras = {},
): Storage {
  const notifier = server?.notifier ?? createInProcessNotifier();
  const transact = server?.transact ?? drizzleTransactions(db);
  let closed = false;
  return {
    kind,
    kv: new PgKvStore(db),
    auth: new PgAuthStore(db),
    tasks: new PgTaskStore(db, notifier, server?.wakeUps),
    docs: new PgDocStore(db, transact),
    events: new PgEventStore(db, {
      transact,
      numberedAtAppend: eventsNumberedAtAppend,
      ...(server ? { announceChannel: server.wakeUps.channel(EVENTS_CHANNEL) } : {}),
    }),
    notifier,
    async ping() {
      await db.execute(sql`SELECT 1`);
    },
    ...(vacuum ? { vacuum } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}
