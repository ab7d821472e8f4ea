/** Housekeeping any node may run: reaping expired leases and purging old finished tasks. */
import { sql } from 'drizzle-orm';
import { outcomeEventType, taskEvent } from '../../tasks/event-data.js';
import type { ChangeContext, TaskRecord } from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { jsonb, rowsOf, timestamptz } from './sql-helpers.js';
import { queryTasks } from './task-reads.js';
import { taskColumns } from './task-rows.js';

const LEASE_EXPIRED_ERROR = {
  code: 'LEASE_EXPIRED',
  message: 'the process running the task stopped renewing its lease',
  retryable: true,
};

/** Running tasks whose lease expired → pending (or failed when out of attempts), with their events. */
export async function reapExpiredTaskLeases(
  db: PgDb,
  now: Date,
  limit: number,
  change: ChangeContext,
): Promise<TaskRecord[]> {
  // Any node may reap; SKIP LOCKED lets several reapers split the work, and a row whose
  // holder renewed or finished meanwhile fails the re-checked WHERE and is left alone.
  const exhausted = sql`t.attempt >= t.max_attempts`;
  return db.transaction(async (tx) => {
    const reaped = await queryTasks(
      tx,
      sql`
    UPDATE tasks t SET
      status = CASE WHEN t.cancel_requested THEN 'cancelled' WHEN ${exhausted} THEN 'failed' ELSE 'pending' END,
      lease_owner = NULL, lease_expires_at = NULL, error = ${jsonb(LEASE_EXPIRED_ERROR)},
      finished_at = CASE WHEN t.cancel_requested OR ${exhausted} THEN ${timestamptz(now)} ELSE NULL END
    WHERE t.id IN (
      SELECT id FROM tasks WHERE status = 'running' AND lease_expires_at <= ${timestamptz(now)}
      ORDER BY lease_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING ${taskColumns('t')}`,
    );
    await appendEvents(
      tx,
      reaped.map((r) => taskEvent(change, outcomeEventType(r.status, false), r, now)),
    );
    return reaped;
  });
}

/** Deletes up to `limit` finished tasks that finished before `before`; returns how many. */
export async function purgeFinishedTasks(db: PgDb, before: Date, limit: number): Promise<number> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`
      WITH gone AS (
        DELETE FROM tasks WHERE id IN (
          SELECT id FROM tasks
          WHERE finished_at < ${timestamptz(before)} AND status IN ('completed', 'failed', 'cancelled')
          ORDER BY finished_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING 1)
      SELECT count(*)::int AS n FROM gone`),
  );
  return Number(rows[0]?.n ?? 0);
}
