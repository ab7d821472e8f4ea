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
 * saves a round trip. The events go into the inbox as one row (see migrations 8 and 10); its
 * text is the same whatever the number of events, so it is prepared once per connection.
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
  return appendSelectedEvents(sql`
    SELECT e.id, e.type, e.subject, coalesce(e.data, 'null'::jsonb), e.actor, e.at, e.position
    FROM ROWS FROM (jsonb_to_recordset(${jsonb(rows)})
      AS (id text, type text, subject text, data jsonb, actor text, at timestamptz))
      WITH ORDINALITY AS e(id, type, subject, data, actor, at, position)`);
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
  // One array per field (migration 10), each in the events' order.
  return sql`
    INSERT INTO event_inbox (n, ids, types, subjects, data, actors, ats)
    SELECT count(*), array_agg(ev.id::text ORDER BY ev.ord), array_agg(ev.type::text ORDER BY ev.ord),
           array_agg(ev.subject::text ORDER BY ev.ord), array_agg(ev.data::jsonb ORDER BY ev.ord),
           array_agg(ev.actor::text ORDER BY ev.ord), array_agg(ev.at::timestamptz ORDER BY ev.ord)
    FROM (${select}) AS ev(id, type, subject, data, actor, at, ord)
    HAVING count(*) > 0`;
}

/**
 * The INSERT that moves the events of inbox rows into the log, numbering them in order:
 * `from` yields them as `e(id, type, subject, data, actor, at, …)` (see {@link unnestInboxRow}),
 * `orderBy` is their order in the log. Used by the sequencer (after commit) and by PGlite's
 * trigger (at append), so both read the inbox's format (migration 10) the same way.
 */
export function numberInboxEventsSql(from: string, orderBy: string): string {
  return `
    INSERT INTO events (seq, id, type, subject, data, actor, at)
    SELECT nextval('events_seq'), e.id, e.type, e.subject, e.data, e.actor, e.at FROM (
      SELECT e.id, e.type, e.subject, coalesce(e.data, 'null'::jsonb) AS data, e.actor, e.at
      FROM ${from}
      ORDER BY ${orderBy}
    ) e`;
}

/** The events inbox row `row` holds, as rows `e(id, type, subject, data, actor, at, position)`. */
export function unnestInboxRow(row: string): string {
  return `unnest(${row}.ids, ${row}.types, ${row}.subjects, ${row}.data, ${row}.actors, ${row}.ats)
    WITH ORDINALITY AS e(id, type, subject, data, actor, at, position)`;
}
