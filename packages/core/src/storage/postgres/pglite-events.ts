/**
 * On PGlite, events are numbered as they are appended, in the writer's own statement.
 *
 * On a PostgreSQL server, numbering waits until after commit (the inbox and its sequencer,
 * migrations 8 and 10) because concurrent transactions commit in an order their statements
 * cannot know. PGlite runs one statement or transaction at a time (every query and
 * transaction of the instance holds its exclusive lock), so the order of appends is the order
 * of commits, and a sequence drawn at append time is already what readers must see. A trigger
 * moves each inbox row into the log as it is inserted: a write then costs no sequencer pass
 * (a transaction with its lock and move, plus the inbox row's insert and delete).
 */
import { sql } from 'drizzle-orm';
import type { PgDb } from './db.js';
import { numberInboxEventsSql, unnestInboxRow } from './event-append.js';
import { PgEventStore } from './event-store.js';
import { rowsOf } from './sql-helpers.js';

/**
 * Installs the trigger (idempotent) and numbers the inbox rows written before it existed,
 * before any new write can be numbered ahead of them. Answers false, installing nothing, when
 * the schema has no inbox yet (storage opened with `migrate: false` on a database not
 * migrated): the sequencer then numbers after commit, as on a server.
 */
export async function numberEventsAtAppend(db: PgDb): Promise<boolean> {
  const [found] = rowsOf<{ ready: boolean }>(
    await db.execute(sql`SELECT to_regclass('event_inbox') IS NOT NULL AS ready`),
  );
  if (!found?.ready) return false;
  await db.execute(
    sql.raw(`
      CREATE OR REPLACE FUNCTION proserver_number_inbox_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        ${numberInboxEventsSql(unnestInboxRow('NEW'), 'e.position')};
        RETURN NULL;
      END
      $fn$`),
  );
  await db.execute(
    sql.raw(`
      CREATE OR REPLACE TRIGGER event_inbox_number_at_append BEFORE INSERT ON event_inbox
      FOR EACH ROW EXECUTE FUNCTION proserver_number_inbox_row()`),
  );
  await new PgEventStore(db).sequencePending();
  return true;
}
