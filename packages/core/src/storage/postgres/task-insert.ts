import { type SQL, sql } from 'drizzle-orm';
import { TASK_EVENTS } from '../../tasks/event-data.js';
import type { TaskPriority } from '../../tasks/types.js';
import { CLAIM_ORDER, priorityOfRank } from '../memory/task-queue.js';
import type { ChangeContext, ClaimRequest, NewTask, TaskHandoff, TaskRecord } from '../ports.js';
import type { PgDb } from './db.js';
import { appendSelectedEvents } from './event-append.js';
import { taskEventDataSql } from './event-sql.js';
import { rowsOf, timestamptz } from './sql-helpers.js';
import { keyIsFree } from './task-claim.js';
import { type TaskRow, taskColumns, toTaskRecord } from './task-rows.js';

/** Rows per INSERT statement. */
const INSERT_CHUNK = 1000;

/**
 * Start-time fair queuing: reserves `count` consecutive fair_seq values for one lane
 * (priority, submitter) and returns the first.
 *
 * A lane's next task gets `max(lane.last_seq + 1, head)`, where head is the smallest fair_seq
 * among due pending tasks of that priority (or, with an empty queue, one past every lane).
 * So a submitter arriving behind another's backlog of 1,000 starts at the head of the line
 * and interleaves with it (A1 B1 A2 B2 …) instead of waiting for it to drain, while a lane
 * never goes backwards. Claims order by fair_seq. The lane row's lock (ON CONFLICT DO
 * UPDATE) serialises concurrent submits of one lane; different lanes do not contend.
 */
export async function allocateFairSeq(
  db: PgDb,
  priority: TaskPriority,
  submitter: string,
  count: number,
  now: Date,
): Promise<number> {
  const rows = rowsOf<{ first: number | string }>(
    await db.execute(sql`WITH ${laneCtes(priority, submitter, count, now)} SELECT first FROM lane`),
  );
  return Number(rows[0]?.first);
}

/** The CTEs `head`, `start` and `lane` (one row: `first`) of {@link allocateFairSeq}. */
function laneCtes(priority: TaskPriority, submitter: string, count: number, now: Date): SQL {
  return sql`
      head AS (
        SELECT min(fair_seq) AS h FROM tasks
        WHERE status = 'pending' AND NOT is_schedule AND fair_seq > 0 AND priority = ${priority}
          AND run_at <= ${timestamptz(now)}
      ), start AS (
        SELECT COALESCE((SELECT h FROM head),
          (SELECT COALESCE(max(last_seq), 0) + 1 FROM task_lanes WHERE priority = ${priority})) AS s
      ), lane AS (
        INSERT INTO task_lanes AS l (priority, submitter, last_seq)
        SELECT ${priority}, ${submitter}, s + ${count} - 1 FROM start
        ON CONFLICT (priority, submitter) DO UPDATE
          SET last_seq = GREATEST(l.last_seq + 1, (SELECT s FROM start)) + ${count} - 1
        RETURNING (l.last_seq - ${count} + 1)::float8 AS first
      )`;
}

/**
 * Tasks {@link singleInsertStatement} can insert: one lane, no schedule, no idempotency key
 * (a key may need detaching from an expired task first), at most one INSERT's worth.
 */
export function fitsSingleStatement(tasks: readonly NewTask[]): boolean {
  const first = tasks[0];
  if (!first || tasks.length > INSERT_CHUNK) return false;
  return tasks.every(
    (t) =>
      !t.isSchedule && t.idempotencyKey === null && t.priority === first.priority && t.submitter === first.submitter,
  );
}

/**
 * The single autocommit statement that inserts one lane's tasks: the lane's fair_seq
 * allocation is a data-modifying CTE the INSERT reads (`first` + position), so a submit costs
 * one round trip instead of four (BEGIN, lane, INSERT, COMMIT). Atomic like the transaction:
 * one statement. Only for {@link fitsSingleStatement} batches; its rows give the inserted
 * tasks through {@link insertedTasks}. With a `handoff` (one task only), the task is inserted
 * already claimed when {@link handoffCondition} holds, and its `task.started` event follows
 * its `task.submitted`.
 */
export function singleInsertStatement(
  tasks: readonly NewTask[],
  now: Date,
  change: ChangeContext,
  handoff?: TaskHandoff,
): SQL {
  const first = tasks[0] as NewTask;
  const json = JSON.stringify(tasks.map((task, index) => rowJson(task, index)));
  const lane = laneCtes(first.priority, first.submitter, tasks.length, now);
  // Each task's `task.submitted` event, inserted by the same statement (ids made here, in input order).
  const events = JSON.stringify(tasks.map((task, n) => ({ id: task.id, event_id: change.ids.next('evt'), n })));
  const claim = handoff && tasks.length === 1 ? { ...handoff.claim, when: handoffCondition(handoff.claim, now) } : null;
  // A handed-off task's submitted event still says what it was when submitted: pending, no attempt yet.
  const submitted = sql`
      SELECT e.event_id, ${TASK_EVENTS.submitted}, ins.id,
             ${taskEventDataSql('ins')} || '{"status": "pending", "attempt": 0}'::jsonb, ${change.actor},
             ${timestamptz(now)}, e.n
      FROM ins JOIN jsonb_to_recordset(${events}::text::jsonb) AS e(id text, event_id text, n int) ON e.id = ins.id`;
  const started =
    claim && handoff
      ? sql`
      UNION ALL
      SELECT ${handoff.change.ids.next('evt')}, ${TASK_EVENTS.started}, ins.id, ${taskEventDataSql('ins')},
             ${handoff.change.actor}, ${timestamptz(now)}, 1
      FROM ins WHERE ins.status = 'running'`
      : sql``;
  return sql`
    WITH ${lane}, ins AS (
      ${insertStatement(json, now, sql`(SELECT first FROM lane) + x.fair_seq`, sql`tasks.*`, claim)}
    ), logged AS (${appendSelectedEvents(sql`${submitted}${started}`)})
    SELECT ${taskColumns('ins')} FROM ins`;
}

/**
 * When a handed-off task is inserted claimed (see TaskHandoff): it is due, has no concurrency
 * key, is of a type the offering worker handles, and no other due pending task exists that the
 * slot's claim could take (the same conditions as the claim's, in any rank of its class: the
 * offer jumps no line). One probe per priority and handled type, each on
 * `tasks_claim_type_idx` like the claim (a list of priorities instead of one constant let a
 * plan walk a type's whole backlog through `tasks_type_idx`). The probes do not depend on the
 * row: they run once per statement.
 */
function handoffCondition(claim: ClaimRequest, now: Date): SQL {
  const types = JSON.stringify(claim.types);
  const priorities = [...new Set(CLAIM_ORDER[claim.slotClass].map(priorityOfRank))];
  const waiting = priorities.map(
    (priority) => sql`EXISTS (
      SELECT 1 FROM (SELECT jsonb_array_elements_text(${types}::text::jsonb) AS type) handled
      CROSS JOIN LATERAL (
        SELECT 1 FROM tasks t
        WHERE t.status = 'pending' AND NOT t.is_schedule AND t.priority = ${priority} AND t.type = handled.type
          AND t.run_at <= ${timestamptz(now)}
          AND ${keyIsFree('t')}
        LIMIT 1
      ) other)`,
  );
  return sql`x.concurrency_key IS NULL AND x.run_at <= ${timestamptz(now)}
    AND x.type IN (SELECT jsonb_array_elements_text(${types}::text::jsonb))
    AND NOT (${sql.join(waiting, sql` OR `)})`;
}

/** The tasks an insert statement's result rows describe. */
export function insertedTasks(result: unknown): TaskRecord[] {
  return rowsOf<TaskRow>(result).map(toTaskRecord);
}

function rowJson(task: NewTask, fairSeq: number): Record<string, unknown> {
  return {
    id: task.id,
    type: task.type,
    priority: task.priority,
    payload: task.payload,
    max_attempts: task.maxAttempts,
    retry: task.retry,
    timeout_ms: task.timeoutMs,
    run_at: task.runAt.toISOString(),
    submitter: task.submitter,
    tags: task.tags,
    concurrency_key: task.concurrencyKey,
    parent_id: task.parentId,
    recurrence: task.recurrence,
    is_schedule: task.isSchedule,
    idempotency_key: task.idempotencyKey,
    fair_seq: fairSeq,
  };
}

/** Inserts rows (fair_seq allocated per lane); a row whose idempotency key exists is skipped. Returns the inserted. */
export async function insertTasks(db: PgDb, tasks: readonly NewTask[], now: Date): Promise<TaskRecord[]> {
  const seqs = new Map<NewTask, number>();
  const lanes = new Map<string, NewTask[]>();
  for (const task of tasks) {
    if (task.isSchedule) {
      seqs.set(task, 0);
      continue;
    }
    const lane = `${task.priority}\u0000${task.submitter}`;
    const members = lanes.get(lane);
    if (members) members.push(task);
    else lanes.set(lane, [task]);
  }
  for (const members of lanes.values()) {
    const first = members[0] as NewTask;
    const start = await allocateFairSeq(db, first.priority, first.submitter, members.length, now);
    members.forEach((task, index) => {
      seqs.set(task, start + index);
    });
  }
  const inserted: TaskRecord[] = [];
  for (let offset = 0; offset < tasks.length; offset += INSERT_CHUNK) {
    const chunk = tasks.slice(offset, offset + INSERT_CHUNK);
    const json = JSON.stringify(chunk.map((task) => rowJson(task, seqs.get(task) ?? 0)));
    inserted.push(...rowsOf<TaskRow>(await db.execute(insertStatement(json, now))).map(toTaskRecord));
  }
  return inserted;
}

/**
 * `fairSeq`: the row's own value, or (see {@link singleInsertStatement}) an offset from the
 * lane's first. `claim`: rows for which `claim.when` holds are inserted claimed by its worker
 * (running, attempt 1, leased), as its claim statement would have marked them.
 */
function insertStatement(
  json: string,
  now: Date,
  fairSeq = sql`x.fair_seq`,
  returning = taskColumns('tasks'),
  claim: (ClaimRequest & { when: SQL }) | null = null,
): SQL {
  const claimed = claim ? sql`(${claim.when})` : sql`false`;
  // `c.claimed` is read by five columns. Without the OFFSET 0 the planner pulls the subquery up
  // and copies the condition into each of them: five copies of the hand-off probes to plan
  // (5–8 ms of planning per custom plan instead of 1.3–1.5) and to run (15 probes, not 3).
  return sql`
    INSERT INTO tasks (id, type, status, priority, payload, max_attempts, retry, timeout_ms, run_at, created_at,
      submitter, tags, concurrency_key, parent_id, recurrence, is_schedule, idempotency_key, fair_seq,
      attempt, lease_owner, lease_expires_at, started_at)
    SELECT x.id, x.type, CASE WHEN c.claimed THEN 'running' ELSE 'pending' END, x.priority,
      COALESCE(x.payload, 'null'::jsonb), x.max_attempts, x.retry, x.timeout_ms, x.run_at,
      ${timestamptz(now)}, x.submitter, x.tags, x.concurrency_key, x.parent_id, x.recurrence, x.is_schedule,
      x.idempotency_key, (${fairSeq})::bigint,
      CASE WHEN c.claimed THEN 1 ELSE 0 END,
      CASE WHEN c.claimed THEN ${claim?.workerId ?? null} END,
      CASE WHEN c.claimed THEN ${claim ? timestamptz(claim.leaseExpiresAt) : sql`NULL::timestamptz`} END,
      CASE WHEN c.claimed THEN ${timestamptz(now)} END
    FROM jsonb_to_recordset(${json}::text::jsonb) AS x(id text, type text, priority text,
      payload jsonb, max_attempts int, retry jsonb, timeout_ms int, run_at timestamptz, submitter text, tags jsonb,
      concurrency_key text, parent_id text, recurrence jsonb, is_schedule boolean, idempotency_key text,
      fair_seq float8)
    CROSS JOIN LATERAL (SELECT ${claimed} AS claimed OFFSET 0) c
    ON CONFLICT (submitter, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING ${returning}`;
}
