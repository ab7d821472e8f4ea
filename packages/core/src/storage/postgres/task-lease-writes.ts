/**
 * The writes of the worker holding a task's lease: heartbeat, progress and outcome. Each is one
 * statement, conditional on `lease_owner = workerId AND status = 'running'`.
 */
import { sql } from 'drizzle-orm';
import { TASK_EVENTS } from '../../tasks/event-data.js';
import type { TaskStatus } from '../../tasks/types.js';
import type { ChangeContext, ProgressAnnouncement, TaskOutcome, TaskProgressUpdate } from '../ports.js';
import type { PgDb } from './db.js';
import { appendSelectedEvents } from './event-append.js';
import { taskEventDataSql } from './event-sql.js';
import { jsonb, rowsOf, textList, timestamptz } from './sql-helpers.js';

/** Renews the leases `workerId` still holds (unexpired at `now`); reports held ids and cancel requests. */
export async function renewLeases(
  db: PgDb,
  workerId: string,
  ids: readonly string[],
  leaseExpiresAt: Date,
  now: Date,
): Promise<{ held: string[]; cancelRequested: string[] }> {
  const rows = rowsOf<{ id: string; cancel_requested: boolean }>(
    await db.execute(sql`
      UPDATE tasks SET lease_expires_at = ${timestamptz(leaseExpiresAt)}
      WHERE id = ${textList(ids)} AND lease_owner = ${workerId} AND status = 'running'
        AND lease_expires_at > ${timestamptz(now)}
      RETURNING id, cancel_requested`),
  );
  return { held: rows.map((r) => r.id), cancelRequested: rows.filter((r) => r.cancel_requested).map((r) => r.id) };
}

/** Writes an attempt's progress and inserts `announce`'s events with it; false when the lease is lost. */
export async function writeProgress(
  db: PgDb,
  workerId: string,
  id: string,
  attempt: number,
  update: TaskProgressUpdate,
  announce?: ProgressAnnouncement,
): Promise<boolean> {
  const events = (announce?.events ?? []).map((e, n) => ({
    id: announce?.change.ids.next('evt'),
    type: e.type,
    extra: e.extra ?? {},
    n,
  }));
  const at = announce?.change.at ?? new Date();
  // The announced events are inserted from the UPDATE's row: a write refused (lease lost)
  // announces nothing.
  const rows = rowsOf(
    await db.execute(sql`
      WITH w AS (
        UPDATE tasks SET progress = ${jsonb(update.progress)}, stage = ${update.stage}, stages = ${jsonb(update.stages)}
        WHERE id = ${id} AND lease_owner = ${workerId} AND status = 'running' AND attempt = ${attempt}
        RETURNING tasks.*
      ), logged AS (${appendSelectedEvents(sql`
        SELECT ev.id, ev.type, w.id, ${taskEventDataSql('w')} || ev.extra, ${announce?.change.actor ?? null},
               ${timestamptz(at)}, ev.n
        FROM w, jsonb_to_recordset(${JSON.stringify(events)}::text::jsonb) AS ev(id text, type text, extra jsonb, n int)`)})
      SELECT w.id FROM w`),
  );
  return rows.length > 0;
}

/** Writes the outcomes of attempts `workerId` holds, with their events; returns the statuses written. */
export async function finishTasks(
  db: PgDb,
  workerId: string,
  outcomes: readonly TaskOutcome[],
  now: Date,
  change: ChangeContext,
): Promise<{ id: string; status: TaskStatus }[]> {
  if (outcomes.length === 0) return [];
  const json = JSON.stringify(
    outcomes.map((o, n) => ({
      ...o,
      n,
      run_at: o.runAt?.toISOString() ?? null,
      runAt: undefined,
      event_id: change.ids.next('evt'),
    })),
  );
  // One statement for the whole batch. A cancel request wins over any outcome; a release
  // (preemption, shutdown) gives the attempt back and keeps run_at and fair_seq: the task
  // keeps its place in line. Each written outcome's event is inserted by the same statement.
  // The ids' array lets every plan find the rows through the primary key: a generic plan made
  // while the table looked small would otherwise scan it and re-read the JSON per row.
  const ids = outcomes.map((o) => o.id);
  const rows = rowsOf<{ id: string; status: TaskStatus }>(
    await db.execute(sql`
      WITH w AS (
      UPDATE tasks t SET
        status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE o.status END,
        attempt = CASE WHEN o.release AND NOT t.cancel_requested THEN t.attempt - 1 ELSE t.attempt END,
        started_at = CASE WHEN o.release AND NOT t.cancel_requested THEN NULL ELSE t.started_at END,
        run_at = CASE WHEN NOT t.cancel_requested AND o.status = 'pending' AND o.run_at IS NOT NULL
          THEN o.run_at ELSE t.run_at END,
        result = o.result, error = o.error, progress = o.progress, stage = o.stage,
        stages = COALESCE(o.stages, '[]'::jsonb),
        lease_owner = NULL, lease_expires_at = NULL,
        finished_at = CASE WHEN t.cancel_requested OR o.status <> 'pending' THEN ${timestamptz(now)} ELSE NULL END
      FROM jsonb_to_recordset(${json}::text::jsonb) AS o(id text, attempt int, status text, release boolean,
        result jsonb, error jsonb, run_at timestamptz, progress jsonb, stage text, stages jsonb, event_id text, n int)
      WHERE t.id = ${textList(ids)}
        AND t.id = o.id AND t.lease_owner = ${workerId} AND t.status = 'running' AND t.attempt = o.attempt
      RETURNING t.id, t.type, t.status, t.priority, t.attempt, t.progress, t.stage, t.error,
        o.release AS o_release, o.event_id AS o_event_id, o.n AS o_n
      ), logged AS (${appendSelectedEvents(sql`
        SELECT w.o_event_id,
               CASE w.status WHEN 'pending' THEN CASE WHEN w.o_release THEN ${TASK_EVENTS.released}
                                                      ELSE ${TASK_EVENTS.retrying} END
                             WHEN 'completed' THEN ${TASK_EVENTS.completed}
                             WHEN 'cancelled' THEN ${TASK_EVENTS.cancelled}
                             ELSE ${TASK_EVENTS.failed} END,
               w.id, ${taskEventDataSql('w')}, ${change.actor}, ${timestamptz(now)}, w.o_n
        FROM w`)})
      SELECT w.id, w.status FROM w`),
  );
  return rows;
}
