import { type SQL, sql } from 'drizzle-orm';
import type { NewEvent } from '../ports.js';
import type { PgDb } from './db.js';
import { jsonb } from './sql-helpers.js';

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
  await db.execute(insertEventsSql(events));
}

/**
 * The INSERT that appends these events, in order, for use as a statement or inside a larger
 * one as a data-modifying CTE (`WITH …, appended AS (${insertEventsSql(events)}) …`), which
 * saves a round trip. Its text is the same whatever the number of events (the rows travel as
 * one JSON parameter), so it is prepared once per connection.
 */
export function insertEventsSql(events: readonly NewEvent[]): SQL {
  const rows = events.map((event) => ({
    id: event.id,
    type: event.type,
    subject: event.subject,
    data: event.data,
    actor: event.actor,
    at: event.at.toISOString(),
  }));
  // ORDER BY the input position: `append_order` (a column default) is drawn in that order.
  // jsonb_to_recordset reads a JSON null as SQL NULL: `data: null` is stored as JSON null.
  return sql`
    INSERT INTO events (id, type, subject, data, actor, at)
    SELECT r.id, r.type, r.subject, coalesce(r.data, 'null'::jsonb), r.actor, r.at
    FROM ROWS FROM (jsonb_to_recordset(${jsonb(rows)})
      AS (id text, type text, subject text, data jsonb, actor text, at timestamptz))
      WITH ORDINALITY AS r(id, type, subject, data, actor, at, n)
    ORDER BY r.n`;
}
