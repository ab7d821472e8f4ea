import { type SQL, sql } from 'drizzle-orm';
import type { JsonValue } from '../../kv/types.js';
import { outcomeEventType, TASK_EVENTS, taskEvent } from '../../tasks/event-data.js';
import { logEventExtra } from '../../tasks/log-event.js';
import type { TaskLogLine, TaskPriority, TaskStatus } from '../../tasks/types.js';
import { newEvent, SYSTEM_CHANGE } from '../change-context.js';
import type {
  ChangeContext,
  ClaimRequest,
  NewLogLine,
  NewTask,
  ProgressAnnouncement,
  TaskListQuery,
  TaskOutcome,
  TaskProgressUpdate,
  TaskRecord,
  TaskStore,
} from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { taskEventDataSql } from './event-sql.js';
import { jsonb, parseJson, rowsOf, timestamptz, toDate } from './sql-helpers.js';
import { claimStatement } from './task-claim.js';
import { fitsSingleStatement, insertSingleStatement, insertTasks } from './task-insert.js';
import { type TaskRow, taskColumns, textList, toTaskRecord } from './task-rows.js';

/** Attempts of a claim that lost a concurrency-key race before it gives up for this round. */
const CLAIM_RETRIES = 5;
const LEASE_EXPIRED_ERROR = {
  code: 'LEASE_EXPIRED',
  message: 'the process running the task stopped renewing its lease',
  retryable: true,
};

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/**
 * The task store on PostgreSQL (either driver). Claims, completions, heartbeats and the reaper
 * are one statement each and work on batches; every write of a claimed task is conditional on
 * `lease_owner = workerId AND status = 'running'`. The current time is always a parameter.
 * Events: claims, outcomes and single-task changes insert theirs in the same statement (a
 * data-modifying CTE over the UPDATE's rows); multi-statement changes append them in their
 * transaction.
 *
 * @example
 * const store = new PgTaskStore(db);
 * const claimed = await store.claim({ workerId, slotClass: 'normal', limit: 4, types, leaseExpiresAt, agedBefore }, now);
 */
export class PgTaskStore implements TaskStore {
  constructor(private readonly db: PgDb) {}

  async insert(tasks: readonly NewTask[], now: Date, idempotentSince: Date, change: ChangeContext = SYSTEM_CHANGE) {
    if (fitsSingleStatement(tasks)) {
      const inserted = new Map((await insertSingleStatement(this.db, tasks, now, change)).map((r) => [r.id, r]));
      return tasks.map((t) => ({ task: inserted.get(t.id) as TaskRecord, created: true }));
    }
    return this.db.transaction(async (tx) => {
      const keyed = tasks.filter((t) => t.idempotencyKey !== null);
      for (const submitter of new Set(keyed.map((t) => t.submitter))) {
        // Keys older than the window are free again: detach them from their old task first.
        const keys = keyed.filter((t) => t.submitter === submitter).map((t) => t.idempotencyKey as string);
        await tx.execute(sql`
          UPDATE tasks SET idempotency_key = NULL
          WHERE submitter = ${submitter} AND idempotency_key = ${textList(keys)}
            AND created_at <= ${timestamptz(idempotentSince)}`);
      }
      const inserted = new Map((await insertTasks(tx, tasks, now)).map((r) => [r.id, r]));
      const out: { task: TaskRecord; created: boolean }[] = [];
      for (const task of tasks) {
        const record = inserted.get(task.id);
        if (record) {
          out.push({ task: record, created: true });
          continue;
        }
        const existing = await this.many(
          sql`SELECT ${taskColumns()} FROM tasks
              WHERE submitter = ${task.submitter} AND idempotency_key = ${task.idempotencyKey}`,
          tx,
        );
        if (!existing[0]) throw new Error(`task ${task.id} was neither inserted nor found by its idempotency key`);
        out.push({ task: existing[0], created: false });
      }
      await appendEvents(
        tx,
        out.filter((i) => i.created).map((i) => taskEvent(change, TASK_EVENTS.submitted, i.task, now)),
      );
      return out;
    });
  }

  async get(id: string): Promise<TaskRecord | null> {
    return (await this.many(sql`SELECT ${taskColumns()} FROM tasks WHERE id = ${id}`))[0] ?? null;
  }

  async list(query: TaskListQuery): Promise<TaskRecord[]> {
    const conditions: SQL[] = [sql`true`];
    if (query.status !== undefined) conditions.push(sql`status = ${query.status}`);
    if (query.type !== undefined) conditions.push(sql`type = ${query.type}`);
    if (query.priority !== undefined) conditions.push(sql`priority = ${query.priority}`);
    if (query.tag !== undefined) conditions.push(sql`tags @> ${jsonb([query.tag])}`);
    if (query.submitter !== undefined) conditions.push(sql`submitter = ${query.submitter}`);
    if (query.parentId !== undefined) conditions.push(sql`parent_id = ${query.parentId}`);
    if (query.beforeId !== undefined) conditions.push(sql`id < ${query.beforeId}`);
    return this.many(sql`
      SELECT ${taskColumns()} FROM tasks WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY id DESC LIMIT ${query.limit}`);
  }

  async claim(request: ClaimRequest, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.many(claimStatement(request, now, change));
      } catch (error) {
        // Another node started a task with the same concurrency key between our check and our
        // update. The unique index refused ours; its task is committed now, so a new claim skips the key.
        if (!isUniqueViolation(error) || attempt >= CLAIM_RETRIES) throw error;
      }
    }
  }

  async heartbeat(workerId: string, ids: readonly string[], leaseExpiresAt: Date, now: Date) {
    const rows = rowsOf<{ id: string; cancel_requested: boolean }>(
      await this.db.execute(sql`
        UPDATE tasks SET lease_expires_at = ${timestamptz(leaseExpiresAt)}
        WHERE id = ${textList(ids)} AND lease_owner = ${workerId} AND status = 'running'
          AND lease_expires_at > ${timestamptz(now)}
        RETURNING id, cancel_requested`),
    );
    return { held: rows.map((r) => r.id), cancelRequested: rows.filter((r) => r.cancel_requested).map((r) => r.id) };
  }

  async updateProgress(
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
      await this.db.execute(sql`
        WITH w AS (
          UPDATE tasks SET progress = ${jsonb(update.progress)}, stage = ${update.stage}, stages = ${jsonb(update.stages)}
          WHERE id = ${id} AND lease_owner = ${workerId} AND status = 'running' AND attempt = ${attempt}
          RETURNING tasks.*
        ), logged AS (
          INSERT INTO events (id, type, subject, data, actor, at)
          SELECT ev.id, ev.type, w.id, ${taskEventDataSql('w')} || ev.extra, ${announce?.change.actor ?? null},
                 ${timestamptz(at)}
          FROM w, jsonb_to_recordset(${JSON.stringify(events)}::text::jsonb) AS ev(id text, type text, extra jsonb, n int)
          ORDER BY ev.n
        )
        SELECT w.id FROM w`),
    );
    return rows.length > 0;
  }

  async finish(workerId: string, outcomes: readonly TaskOutcome[], now: Date, change: ChangeContext = SYSTEM_CHANGE) {
    if (outcomes.length === 0) return [];
    const json = JSON.stringify(
      outcomes.map((o) => ({
        ...o,
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
    const ids = JSON.stringify(outcomes.map((o) => o.id));
    const rows = rowsOf<{ id: string; status: TaskStatus }>(
      await this.db.execute(sql`
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
          result jsonb, error jsonb, run_at timestamptz, progress jsonb, stage text, stages jsonb, event_id text)
        WHERE t.id = ANY (ARRAY(SELECT jsonb_array_elements_text(${ids}::text::jsonb)))
          AND t.id = o.id AND t.lease_owner = ${workerId} AND t.status = 'running' AND t.attempt = o.attempt
        RETURNING t.*, o.release AS o_release, o.event_id AS o_event_id
        ), logged AS (
          INSERT INTO events (id, type, subject, data, actor, at)
          SELECT w.o_event_id,
                 CASE w.status WHEN 'pending' THEN CASE WHEN w.o_release THEN ${TASK_EVENTS.released}
                                                        ELSE ${TASK_EVENTS.retrying} END
                               WHEN 'completed' THEN ${TASK_EVENTS.completed}
                               WHEN 'cancelled' THEN ${TASK_EVENTS.cancelled}
                               ELSE ${TASK_EVENTS.failed} END,
                 w.id, ${taskEventDataSql('w')}, ${change.actor}, ${timestamptz(now)}
          FROM w
        )
        SELECT w.id, w.status FROM w`),
    );
    return rows;
  }

  async requestCancel(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    // Only a pending task changes status here (a running one gets a request its worker acts on).
    const rows = await this.many(
      this.withEvent(
        sql`
        UPDATE tasks SET
          status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
          finished_at = CASE WHEN status = 'pending' THEN ${timestamptz(now)} ELSE finished_at END,
          cancel_requested = (status = 'running')
        WHERE id = ${id} AND status IN ('pending', 'running')`,
        { type: TASK_EVENTS.cancelled, when: sql`w.status = 'cancelled'`, change, now },
      ),
    );
    return rows[0] ?? this.get(id);
  }

  async retry(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    const rows = await this.many(
      this.withEvent(
        sql`
        UPDATE tasks SET status = 'pending', attempt = 0, error = NULL, result = NULL, cancel_requested = false,
          run_at = ${timestamptz(now)}, started_at = NULL, finished_at = NULL
        WHERE id = ${id} AND NOT is_schedule AND status IN ('failed', 'cancelled')`,
        { type: TASK_EVENTS.retrying, when: sql`true`, change, now },
      ),
    );
    return rows[0] ?? null;
  }

  async stopSchedule(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    const rows = await this.many(
      this.withEvent(
        sql`
        UPDATE tasks SET status = 'cancelled', finished_at = ${timestamptz(now)}
        WHERE id = ${id} AND is_schedule AND status = 'pending'`,
        { type: TASK_EVENTS.cancelled, when: sql`true`, change, now },
      ),
    );
    return rows[0] ?? null;
  }

  async appendLogs(
    id: string,
    lines: readonly NewLogLine[],
    cap: number,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<void> {
    if (lines.length === 0) return;
    await this.db.transaction(async (tx) => {
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

  async readLogs(id: string, after: number, limit: number): Promise<TaskLogLine[]> {
    const rows = rowsOf<{
      seq: number;
      at: unknown;
      level: TaskLogLine['level'];
      message: string;
      fields: string | null;
    }>(
      await this.db.execute(sql`
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

  async reapExpiredLeases(now: Date, limit: number, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord[]> {
    // Any node may reap; SKIP LOCKED lets several reapers split the work, and a row whose
    // holder renewed or finished meanwhile fails the re-checked WHERE and is left alone.
    const exhausted = sql`t.attempt >= t.max_attempts`;
    return this.db.transaction(async (tx) => {
      const reaped = await this.many(
        sql`
      UPDATE tasks t SET
        status = CASE WHEN t.cancel_requested THEN 'cancelled' WHEN ${exhausted} THEN 'failed' ELSE 'pending' END,
        lease_owner = NULL, lease_expires_at = NULL, error = ${jsonb(LEASE_EXPIRED_ERROR)},
        finished_at = CASE WHEN t.cancel_requested OR ${exhausted} THEN ${timestamptz(now)} ELSE NULL END
      WHERE t.id IN (
        SELECT id FROM tasks WHERE status = 'running' AND lease_expires_at <= ${timestamptz(now)}
        ORDER BY lease_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING ${taskColumns('t')}`,
        tx,
      );
      await appendEvents(
        tx,
        reaped.map((r) => taskEvent(change, outcomeEventType(r.status, false), r, now)),
      );
      return reaped;
    });
  }

  async dueSchedules(now: Date, limit: number): Promise<TaskRecord[]> {
    return this.many(sql`
      SELECT ${taskColumns()} FROM tasks
      WHERE is_schedule AND status = 'pending' AND run_at <= ${timestamptz(now)}
      ORDER BY run_at LIMIT ${limit}`);
  }

  async spawnOccurrence(
    scheduleId: string,
    expectedRunAt: Date,
    run: NewTask,
    nextRunAt: Date | null,
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ) {
    return this.db.transaction(async (tx) => {
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
      const [schedule] = await this.many(
        sql`
        UPDATE tasks SET run_count = run_count + 1,
          run_at = ${nextRunAt === null ? sql`run_at` : timestamptz(nextRunAt)},
          status = ${nextRunAt === null ? 'completed' : 'pending'},
          finished_at = ${nextRunAt === null ? timestamptz(now) : sql`NULL`}
        WHERE id = ${scheduleId}
        RETURNING ${taskColumns()}`,
        tx,
      );
      const events = child ? [taskEvent(change, TASK_EVENTS.submitted, child, now)] : [];
      if (schedule && nextRunAt === null) events.push(taskEvent(change, TASK_EVENTS.completed, schedule, now));
      await appendEvents(tx, events);
      return child ?? null;
    });
  }

  async purgeFinished(before: Date, limit: number): Promise<number> {
    const rows = rowsOf<{ n: number }>(
      await this.db.execute(sql`
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

  async queueDepths(): Promise<Record<TaskPriority, number>> {
    const rows = rowsOf<{ priority: TaskPriority; n: number }>(
      await this.db.execute(sql`
        SELECT priority, count(*)::int AS n FROM tasks WHERE status = 'pending' AND NOT is_schedule GROUP BY priority`),
    );
    const depths: Record<TaskPriority, number> = { critical: 0, normal: 0, batch: 0 };
    for (const row of rows) depths[row.priority] = Number(row.n);
    return depths;
  }

  async countDueCritical(now: Date, types: readonly string[], limit: number): Promise<number> {
    const rows = rowsOf<{ n: number }>(
      await this.db.execute(sql`
        SELECT count(*)::int AS n FROM (
          SELECT 1 FROM tasks
          WHERE status = 'pending' AND NOT is_schedule AND priority = 'critical'
            AND run_at <= ${timestamptz(now)} AND type = ${textList(types)}
          LIMIT ${limit}) due`),
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * A single-task UPDATE (without RETURNING) that also inserts its event, in one statement,
   * when the updated row satisfies `when`; returns the row's columns.
   */
  private withEvent(update: SQL, event: { type: string; when: SQL; change: ChangeContext; now: Date }): SQL {
    return sql`
      WITH w AS (${update} RETURNING tasks.*),
      logged AS (
        INSERT INTO events (id, type, subject, data, actor, at)
        SELECT ${event.change.ids.next('evt')}, ${event.type}, w.id, ${taskEventDataSql('w')},
               ${event.change.actor}, ${timestamptz(event.now)}
        FROM w WHERE ${event.when}
      )
      SELECT ${taskColumns('w')} FROM w`;
  }

  private async many(query: SQL, db: PgDb = this.db): Promise<TaskRecord[]> {
    return rowsOf<TaskRow>(await db.execute(query)).map(toTaskRecord);
  }
}
