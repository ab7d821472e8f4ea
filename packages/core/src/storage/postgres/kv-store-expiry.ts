import { sql } from 'drizzle-orm';
import { KV_EVENTS } from '../../kv/events.js';
import { newEvent } from '../change-context.js';
import type { ChangeContext } from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { type KvRow, RETURNING, toKvRecord } from './kv-store-sql.js';
import { rowsOf, timestamptz } from './sql-helpers.js';

/**
 * Deletes up to `limit` entries expired at `now` (the sweeper's batch), appends a `kv.expired`
 * event for each, and answers their keys.
 *
 * @example
 * const keys = await deleteExpiredKvEntries(db, new Date(), 500, SYSTEM_CHANGE);
 */
export async function deleteExpiredKvEntries(
  db: PgDb,
  now: Date,
  limit: number,
  change: ChangeContext,
): Promise<string[]> {
  // Several nodes run the sweeper at once: SKIP LOCKED lets each take a different batch
  // instead of queueing behind another's row locks (or deleting the same rows twice).
  // Oldest expiry first, served by the partial index on expires_at. The sweeper is not a
  // hot path: its `kv.expired` events are written in a plain transaction.
  return db.transaction(async (tx) => {
    const rows = rowsOf<KvRow>(
      await tx.execute(sql`
        DELETE FROM kv_entries
        WHERE key IN (
          SELECT key FROM kv_entries
          WHERE expires_at <= ${timestamptz(now)}
          ORDER BY expires_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ) AND expires_at <= ${timestamptz(now)}
        RETURNING ${RETURNING}`),
    );
    const records = rows.map(toKvRecord);
    await appendEvents(
      tx,
      records.map((record) =>
        newEvent(
          change,
          KV_EVENTS.expired,
          record.key,
          {
            key: record.key,
            version: record.version,
            tags: record.tags,
            expiresAt: record.expiresAt?.toISOString() ?? null,
          },
          now,
        ),
      ),
    );
    return records.map((record) => record.key);
  });
}
