import { type SQL, sql } from 'drizzle-orm';
import { TASK_EVENTS } from '../../tasks/event-data.js';
import { CLAIM_ORDER, type ClaimRank, priorityOfRank } from '../memory/task-queue.js';
import type { ChangeContext, ClaimRequest } from '../ports.js';
import { appendSelectedEvents } from './event-append.js';
import { eventIdAt, taskEventDataSql } from './event-sql.js';
import { timestamptz } from './sql-helpers.js';
import { claimedColumns } from './task-rows.js';

/** The rows of one rank of the claim order (see CLAIM_ORDER), best first. */
function rankCondition(rank: ClaimRank, agedBefore: Date): SQL {
  switch (rank) {
    case 'critical':
    case 'normal':
    case 'batch':
      return sql`t.priority = ${rank}`;
    case 'aged-batch':
      return sql`t.priority = 'batch' AND t.run_at <= ${timestamptz(agedBefore)}`;
    case 'fresh-batch':
      return sql`t.priority = 'batch' AND t.run_at > ${timestamptz(agedBefore)}`;
  }
}

/**
 * One statement that claims up to `limit` due tasks for a slot class and marks them running.
 *
 * - Each rank of the class's order is its own CTE: per task type this process handles,
 *   `ORDER BY fair_seq, id LIMIT n` on the partial index `tasks_claim_type_idx (priority, type,
 *   fair_seq, id) WHERE status = 'pending' AND NOT is_schedule` (a LATERAL join over the
 *   types), then the heads merged in fair_seq order. So a claim reads the head of each of its
 *   types' lines, never the whole queue, and a backlog of types it has no handler for costs
 *   nothing. (Filtering `type IN (…)` while walking one line per priority read every task of
 *   other types ahead in line: with 100,000 of them queued a claim round was ~50× slower.)
 *   The cost: each rank may lock up to n rows per handled type with due work; the ones the
 *   final LIMIT drops are released when the statement commits.
 * - `FOR UPDATE SKIP LOCKED`: concurrent claimers (other slots, other nodes) skip the rows
 *   another claimer is taking instead of waiting for it and then finding them gone; under
 *   READ COMMITTED a locked row is re-checked, so a row claimed meanwhile is never returned
 *   twice. Rows a rank locked but the final LIMIT drops are released at commit (this statement).
 * - concurrencyKey: keys already running are excluded, and `row_number() … PARTITION BY key`
 *   keeps one task per key within the batch; the partial unique index on running keys
 *   settles the remaining race between nodes (the store retries on its violation).
 * - Each claimed task's `task.started` event is inserted by the same statement (from the
 *   UPDATE's rows, one pre-made id each), so a claim costs no extra round trip.
 * - It answers only what the worker needs to run the tasks (ClaimedTask): encoding every
 *   column of up to 500 rows, JSON and timestamps, and parsing them again cost a claim ~15 %
 *   of its database time.
 */
export function claimStatement(request: ClaimRequest, now: Date, change: ChangeContext): SQL {
  const picked =
    request.taskId === undefined ? pickInClaimOrder(request, now) : pickNamed(request, request.taskId, now);
  const eventIds = Array.from({ length: Math.max(0, request.limit) }, () => change.ids.next('evt'));
  return sql`
    WITH ${picked}
    , claimed AS (
      UPDATE tasks SET
        status = 'running',
        attempt = tasks.attempt + 1,
        lease_owner = ${request.workerId},
        lease_expires_at = ${timestamptz(request.leaseExpiresAt)},
        started_at = ${timestamptz(now)},
        progress = NULL,
        stage = NULL,
        stages = '[]'::jsonb
      FROM picked
      WHERE tasks.id = picked.id
      RETURNING tasks.*
    ), logged AS (${appendSelectedEvents(sql`
      SELECT ${eventIdAt(eventIds, sql`row_number() OVER (ORDER BY c.id)`)}, ${TASK_EVENTS.started}, c.id,
             ${taskEventDataSql('c')}, ${change.actor}, ${timestamptz(now)}, c.id
      FROM claimed c`)})
    SELECT ${claimedColumns('claimed')} FROM claimed`;
}

/** The CTEs that end in `picked`: up to `limit` due tasks in the slot class's claim order. */
function pickInClaimOrder(request: ClaimRequest, now: Date): SQL {
  const types = JSON.stringify(request.types);
  const ranks = CLAIM_ORDER[request.slotClass].map(
    (rank, index) => sql`c${sql.raw(String(index))} AS (
      SELECT x.id, x.concurrency_key, x.fair_seq, ${index}::int AS rank
      FROM (SELECT jsonb_array_elements_text(${types}::text::jsonb) AS type) handled
      CROSS JOIN LATERAL (
        SELECT t.id, t.concurrency_key, t.fair_seq
        FROM tasks t
        WHERE t.status = 'pending' AND NOT t.is_schedule AND ${rankCondition(rank, request.agedBefore)}
          AND t.type = handled.type
          AND t.run_at <= ${timestamptz(now)}
          AND ${keyIsFree('t')}
        ORDER BY t.fair_seq, t.id
        LIMIT ${request.limit}
        FOR UPDATE SKIP LOCKED
      ) x
      ORDER BY x.fair_seq, x.id
      LIMIT ${request.limit}
    )`,
  );
  const union = sql.join(
    CLAIM_ORDER[request.slotClass].map((_, index) => sql`SELECT * FROM c${sql.raw(String(index))}`),
    sql` UNION ALL `,
  );
  return sql`${sql.join(ranks, sql`, `)},
    candidates AS (${union}),
    picked AS (
      SELECT id FROM (
        SELECT id, rank, fair_seq,
          row_number() OVER (PARTITION BY COALESCE(concurrency_key, id) ORDER BY rank, fair_seq, id) AS nth
        FROM candidates
      ) ranked
      WHERE nth = 1
      ORDER BY rank, fair_seq, id
      LIMIT ${request.limit}
    )`;
}

/**
 * The CTE `picked` of a named claim: the one task `taskId` when the class's claim could take
 * it (pending, due, a handled type, a priority of the class's order, its key free), read by
 * primary key. Written so that no other index of `tasks` can serve it: `is_schedule IS NOT
 * TRUE` (the column is NOT NULL, so the same as `NOT is_schedule`) does not imply the claim
 * indexes' predicates, and the type and priority are tested as members of JSON arrays (`?`).
 * Written like the claim order's conditions, the generic plan walked the whole claim index
 * (priority, type, fair_seq, id) looking for the id: every pending task, whatever its type.
 */
function pickNamed(request: ClaimRequest, taskId: string, now: Date): SQL {
  const priorities = [...new Set(CLAIM_ORDER[request.slotClass].map(priorityOfRank))];
  return sql`picked AS (
      SELECT t.id FROM tasks t
      WHERE t.id = ${taskId} AND t.status = 'pending' AND t.is_schedule IS NOT TRUE
        AND ${JSON.stringify(request.types)}::text::jsonb ? t.type
        AND ${JSON.stringify(priorities)}::text::jsonb ? t.priority
        AND t.run_at <= ${timestamptz(now)}
        AND ${keyIsFree('t')}
      FOR UPDATE SKIP LOCKED
    )`;
}

/** No task with the same concurrency key as `alias`'s is running. */
export function keyIsFree(alias: string): SQL {
  const t = sql.raw(alias);
  return sql`(${t}.concurrency_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM tasks r WHERE r.status = 'running' AND r.concurrency_key = ${t}.concurrency_key))`;
}
