import { type SQL, sql } from 'drizzle-orm';
import type { NewEvent } from '../ports.js';
import type { PgDb } from './db.js';
import { jsonb } from './sql-helpers.js';

/**
 * Appends events in the caller's transaction (pass the `tx` of the change the events
 * describe), so an event exists if and only if its change committed. Events are written to
 * the inbox, unnumbered; the event log's sequencer numbers them after commit.
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
 * saves a round trip. The events go into the inbox as one row (see migration 8); its text is
 * the same whatever the number of events, so it is prepared once per connection.
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
  return sql`INSERT INTO event_inbox (n, events) VALUES (${rows.length}, ${jsonb(rows)})`;
}

/**
 * Appends the events a query selects, in the statement of the change they describe (as a
 * data-modifying CTE: `logged AS (${appendSelectedEvents(sql`SELECT … FROM w`)})`), so an
 * event exists if and only if its change committed. `select` answers seven columns, by
 * position: id, type, subject, data (jsonb), actor, at (timestamptz), and the events' order
 * within the change. They go into the inbox as one row; nothing is inserted when the query
 * answers no row (a write that changed nothing announces nothing).
 */
export function appendSelectedEvents(select: SQL): SQL {
  return sql`
    INSERT INTO event_inbox (n, events)
    SELECT count(*), jsonb_agg(jsonb_build_object('id', ev.id, 'type', ev.type, 'subject', ev.subject,
             'data', ev.data, 'actor', ev.actor, 'at', ev.at) ORDER BY ev.ord)
    FROM (${select}) AS ev(id, type, subject, data, actor, at, ord)
    HAVING count(*) > 0`;
}
