/**
 * Single-task changes asked for through the API: cancel, retry, stop a schedule. Each is one
 * UPDATE that inserts its event in the same statement (see {@link withEvent}).
 */
import { type SQL, sql } from 'drizzle-orm';
import { TASK_EVENTS } from '../../tasks/event-data.js';
import type { ChangeContext, TaskRecord } from '../ports.js';
import type { PgDb } from './db.js';
import { appendSelectedEvents } from './event-append.js';
import { taskEventDataSql } from './event-sql.js';
import { timestamptz } from './sql-helpers.js';
import { getTask, queryTasks } from './task-reads.js';
import { taskColumns } from './task-rows.js';

/** Pending → cancelled; running → cancel requested. Returns the task as it is now, or null when unknown. */
export async function requestTaskCancel(
  db: PgDb,
  id: string,
  now: Date,
  change: ChangeContext,
): Promise<TaskRecord | null> {
  // Only a pending task changes status here (a running one gets a request its worker acts on).
  const rows = await queryTasks(
    db,
    withEvent(
      sql`
      UPDATE tasks SET
        status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
        finished_at = CASE WHEN status = 'pending' THEN ${timestamptz(now)} ELSE finished_at END,
        cancel_requested = (status = 'running')
      WHERE id = ${id} AND status IN ('pending', 'running')`,
      { type: TASK_EVENTS.cancelled, when: sql`w.status = 'cancelled'`, change, now },
    ),
  );
  return rows[0] ?? getTask(db, id);
}

/** Failed or cancelled (not a schedule) → pending with a fresh attempt budget; null otherwise. */
export async function retryTask(db: PgDb, id: string, now: Date, change: ChangeContext): Promise<TaskRecord | null> {
  const rows = await queryTasks(
    db,
    withEvent(
      sql`
      UPDATE tasks SET status = 'pending', attempt = 0, error = NULL, result = NULL, cancel_requested = false,
        run_at = ${timestamptz(now)}, started_at = NULL, finished_at = NULL
      WHERE id = ${id} AND NOT is_schedule AND status IN ('failed', 'cancelled')`,
      { type: TASK_EVENTS.retrying, when: sql`true`, change, now },
    ),
  );
  return rows[0] ?? null;
}

/** An active schedule → cancelled; null otherwise. */
export async function stopTaskSchedule(
  db: PgDb,
  id: string,
  now: Date,
  change: ChangeContext,
): Promise<TaskRecord | null> {
  const rows = await queryTasks(
    db,
    withEvent(
      sql`
      UPDATE tasks SET status = 'cancelled', finished_at = ${timestamptz(now)}
      WHERE id = ${id} AND is_schedule AND status = 'pending'`,
      { type: TASK_EVENTS.cancelled, when: sql`true`, change, now },
    ),
  );
  return rows[0] ?? null;
}

/**
 * A single-task UPDATE (without RETURNING) that also inserts its event, in one statement,
 * when the updated row satisfies `when`; returns the row's columns.
 */
function withEvent(update: SQL, event: { type: string; when: SQL; change: ChangeContext; now: Date }): SQL {
  return sql`
    WITH w AS (${update} RETURNING tasks.*),
    logged AS (${appendSelectedEvents(sql`
      SELECT ${event.change.ids.next('evt')}, ${event.type}, w.id, ${taskEventDataSql('w')},
             ${event.change.actor}, ${timestamptz(event.now)}, 1
      FROM w WHERE ${event.when}`)})
    SELECT ${taskColumns('w')} FROM w`;
}
