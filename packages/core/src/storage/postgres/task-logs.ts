import { sql } from 'drizzle-orm';
import type { JsonValue } from '../../kv/types.js';
import { TASK_EVENTS } from '../../tasks/event-data.js';
import { logEventExtra } from '../../tasks/log-event.js';
import type { TaskLogLine } from '../../tasks/types.js';
import { newEvent } from '../change-context.js';
import type { ChangeContext, NewLogLine } from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { taskEventDataSql } from './event-sql.js';
import { parseJson, rowsOf, toDate } from './sql-helpers.js';

/**
 * Appends a task's log lines in order; past `cap` lines, one "log truncated" line and nothing
 * more. The stored lines are announced by one `task.log` event in the same transaction.
 */
export async function appendTaskLogs(
  db: PgDb,
  id: string,
  lines: readonly NewLogLine[],
  cap: number,
  change: ChangeContext,
): Promise<void> {
  if (lines.length === 0) return;
  await db.transaction(async (tx) => {
    // The row lock on the task orders concurrent appends; log_count says where this batch starts.
    const counted = rowsOf<{ before: number; data: string }>(
      await tx.execute(sql`
        WITH old AS (SELECT log_count FROM tasks WHERE id = ${id} FOR UPDATE)
        UPDATE tasks SET log_count = LEAST(old.log_count + ${lines.length}, ${cap + 1})
        FROM old WHERE tasks.id = ${id}
        RETURNING old.log_count AS before, ${taskEventDataSql('tasks')}::text AS data`),
    );
    const before = counted[0] === undefined ? cap + 1 : Number(counted[0].before);
    if (before > cap) return;
    const kept = lines.slice(0, cap - before).map((line, index) => ({
      seq: before + index + 1,
      at: line.at.toISOString(),
      level: line.level,
      message: line.message,
      fields: line.fields ?? null,
    }));
    if (before + lines.length > cap) {
      const at = (lines[cap - before] ?? lines[lines.length - 1]) as NewLogLine;
      kept.push({ seq: cap + 1, at: at.at.toISOString(), level: 'warn', message: 'log truncated', fields: null });
    }
    await tx.execute(sql`
      INSERT INTO task_logs (task_id, seq, at, level, message, fields)
      SELECT ${id}, x.seq, x.at, x.level, x.message, x.fields
      FROM jsonb_to_recordset(${JSON.stringify(kept)}::text::jsonb)
        AS x(seq int, at timestamptz, level text, message text, fields jsonb)`);
    const data = { ...parseJson<Record<string, JsonValue>>(counted[0]?.data), ...logEventExtra(kept) };
    const at = change.at ?? new Date(kept.at(-1)?.at ?? Date.now());
    await appendEvents(tx, [newEvent(change, TASK_EVENTS.log, id, data, at)]);
  });
}

/** Up to `limit` of a task's log lines after line number `after`, in order. */
export async function readTaskLogs(db: PgDb, id: string, after: number, limit: number): Promise<TaskLogLine[]> {
  const rows = rowsOf<{
    seq: number;
    at: unknown;
    level: TaskLogLine['level'];
    message: string;
    fields: string | null;
  }>(
    await db.execute(sql`
      SELECT seq, at, level, message, fields::text AS fields FROM task_logs
      WHERE task_id = ${id} AND seq > ${after} ORDER BY seq LIMIT ${limit}`),
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: toDate(r.at).toISOString(),
    level: r.level,
    message: r.message,
    ...(r.fields === null ? {} : { fields: parseJson(r.fields) }),
  }));
}
