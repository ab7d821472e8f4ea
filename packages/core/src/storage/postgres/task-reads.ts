import { type SQL, sql } from 'drizzle-orm';
import type { TaskPriority } from '../../tasks/types.js';
import type { TaskListQuery, TaskRecord } from '../ports.js';
import type { PgDb } from './db.js';
import { jsonb, rowsOf, textList, timestamptz } from './sql-helpers.js';
import { type TaskRow, taskColumns, toTaskRecord } from './task-rows.js';

/** Runs a statement that answers task rows ({@link taskColumns}) and returns them as records. */
export async function queryTasks(db: PgDb, query: SQL): Promise<TaskRecord[]> {
  return rowsOf<TaskRow>(await db.execute(query)).map(toTaskRecord);
}

export async function getTask(db: PgDb, id: string): Promise<TaskRecord | null> {
  return (await queryTasks(db, sql`SELECT ${taskColumns()} FROM tasks WHERE id = ${id}`))[0] ?? null;
}

export async function listTasks(db: PgDb, query: TaskListQuery): Promise<TaskRecord[]> {
  const conditions: SQL[] = [sql`true`];
  if (query.status !== undefined) conditions.push(sql`status = ${query.status}`);
  if (query.type !== undefined) conditions.push(sql`type = ${query.type}`);
  if (query.priority !== undefined) conditions.push(sql`priority = ${query.priority}`);
  // `tags <> '[]'` is tasks_tags_idx's predicate (only tagged tasks are indexed): it lets the planner use it.
  if (query.tag !== undefined) conditions.push(sql`tags <> '[]'::jsonb AND tags @> ${jsonb([query.tag])}`);
  if (query.submitter !== undefined) conditions.push(sql`submitter = ${query.submitter}`);
  if (query.parentId !== undefined) conditions.push(sql`parent_id = ${query.parentId}`);
  if (query.beforeId !== undefined) conditions.push(sql`id < ${query.beforeId}`);
  return queryTasks(
    db,
    sql`
      SELECT ${taskColumns()} FROM tasks WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY id DESC LIMIT ${query.limit}`,
  );
}

/** Pending tasks (not schedules) per priority (`fair_seq > 0` lets it read tasks_line_idx). */
export async function countPendingByPriority(db: PgDb): Promise<Record<TaskPriority, number>> {
  const rows = rowsOf<{ priority: TaskPriority; n: number }>(
    await db.execute(sql`
      SELECT priority, count(*)::int AS n FROM tasks
      WHERE status = 'pending' AND NOT is_schedule AND fair_seq > 0 GROUP BY priority`),
  );
  const depths: Record<TaskPriority, number> = { critical: 0, normal: 0, batch: 0 };
  for (const row of rows) depths[row.priority] = Number(row.n);
  return depths;
}

/** Due pending critical tasks of `types`, counted up to `limit`. */
export async function countDueCriticalTasks(
  db: PgDb,
  now: Date,
  types: readonly string[],
  limit: number,
): Promise<number> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`
      SELECT count(*)::int AS n FROM (
        SELECT 1 FROM tasks
        WHERE status = 'pending' AND NOT is_schedule AND priority = 'critical'
          AND run_at <= ${timestamptz(now)} AND type = ${textList(types)}
        LIMIT ${limit}) due`),
  );
  return Number(rows[0]?.n ?? 0);
}
