import { sql } from 'drizzle-orm';
import type { NewEvent } from '../ports.js';
import type { PgDb } from './db.js';
import { jsonb, timestamptz } from './sql-helpers.js';

/**
 * Appends events in the caller's transaction (pass the `tx` of the change the events
 * describe), so an event exists if and only if its change committed. Events are written
 * unsequenced (`seq` NULL); the event log's sequencer numbers them after commit.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.execute(sql`UPDATE …`);
 *   await appendEvents(tx, [{ id: ids.next('evt'), type: 'doc.updated', subject: path, data, actor, at: now }]);
 * });
 */
export async function appendEvents(db: PgDb, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map(
    (event) =>
      sql`(${event.id}, ${event.type}, ${event.subject}, ${jsonb(event.data)}, ${event.actor}, ${timestamptz(event.at)})`,
  );
  await db.execute(sql`INSERT INTO events (id, type, subject, data, actor, at) VALUES ${sql.join(rows, sql`, `)}`);
}
