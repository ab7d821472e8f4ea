import { sql } from 'drizzle-orm';
import { TASK_EVENTS, taskEvent } from '../../tasks/event-data.js';
import type { ChangeContext, NewTask, TaskRecord } from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { rowsOf, timestamptz } from './sql-helpers.js';
import { insertTasks } from './task-insert.js';
import { queryTasks } from './task-reads.js';
import { taskColumns } from './task-rows.js';

/** Active schedules whose next occurrence is due at `now`, earliest first. */
export async function selectDueSchedules(db: PgDb, now: Date, limit: number): Promise<TaskRecord[]> {
  return queryTasks(
    db,
    sql`
      SELECT ${taskColumns()} FROM tasks
      WHERE is_schedule AND status = 'pending' AND run_at <= ${timestamptz(now)}
      ORDER BY run_at LIMIT ${limit}`,
  );
}

/**
 * In one transaction: if the schedule is still active and at `expectedRunAt`, inserts `run` and
 * moves the schedule to `nextRunAt` (or completes it when null). Returns the run, or null.
 */
export async function spawnScheduleOccurrence(
  db: PgDb,
  scheduleId: string,
  expectedRunAt: Date,
  run: NewTask,
  nextRunAt: Date | null,
  now: Date,
  change: ChangeContext,
): Promise<TaskRecord | null> {
  return db.transaction(async (tx) => {
    // SKIP LOCKED: when two schedulers race for one schedule, the loser moves on at once; the
    // run_at check makes a late duplicate (the schedule already advanced) a no-op.
    const locked = rowsOf(
      await tx.execute(sql`
        SELECT id FROM tasks
        WHERE id = ${scheduleId} AND is_schedule AND status = 'pending' AND run_at = ${timestamptz(expectedRunAt)}
        FOR UPDATE SKIP LOCKED`),
    );
    if (locked.length === 0) return null;
    const [child] = await insertTasks(tx, [run], now);
    const [schedule] = await queryTasks(
      tx,
      sql`
      UPDATE tasks SET run_count = run_count + 1,
        run_at = ${nextRunAt === null ? sql`run_at` : timestamptz(nextRunAt)},
        status = ${nextRunAt === null ? 'completed' : 'pending'},
        finished_at = ${nextRunAt === null ? timestamptz(now) : sql`NULL`}
      WHERE id = ${scheduleId}
      RETURNING ${taskColumns()}`,
    );
    const events = child ? [taskEvent(change, TASK_EVENTS.submitted, child, now)] : [];
    if (schedule && nextRunAt === null) events.push(taskEvent(change, TASK_EVENTS.completed, schedule, now));
    await appendEvents(tx, events);
    return child ?? null;
  });
}
