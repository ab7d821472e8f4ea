import { type SQL, sql } from 'drizzle-orm';
import { CLAIM_ORDER, type ClaimRank } from '../memory/task-queue.js';
import type { ClaimRequest } from '../ports.js';
import { timestamptz } from './sql-helpers.js';
import { taskColumns, textList } from './task-rows.js';

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
 * - Each rank of the class's order is its own CTE, `ORDER BY fair_seq, id LIMIT n` on the
 *   partial index `tasks_claim_idx (priority, fair_seq, id) WHERE status = 'pending' AND NOT
 *   is_schedule`, so a claim reads the head of each line, never the whole queue.
 * - `FOR UPDATE SKIP LOCKED`: concurrent claimers (other slots, other nodes) skip the rows
 *   another claimer is taking instead of waiting for it and then finding them gone; under
 *   READ COMMITTED a locked row is re-checked, so a row claimed meanwhile is never returned
 *   twice. Rows a rank locked but the final LIMIT drops are released at commit (this statement).
 * - concurrencyKey: keys already running are excluded, and `row_number() … PARTITION BY key`
 *   keeps one task per key within the batch; the partial unique index on running keys
 *   settles the remaining race between nodes (the store retries on its violation).
 */
export function claimStatement(request: ClaimRequest, now: Date): SQL {
  const ranks = CLAIM_ORDER[request.slotClass].map(
    (rank, index) => sql`c${sql.raw(String(index))} AS (
      SELECT t.id, t.concurrency_key, t.fair_seq, ${index}::int AS rank
      FROM tasks t
      WHERE t.status = 'pending' AND NOT t.is_schedule AND ${rankCondition(rank, request.agedBefore)}
        AND t.run_at <= ${timestamptz(now)}
        AND t.type IN ${textList(request.types)}
        AND (t.concurrency_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM tasks r WHERE r.status = 'running' AND r.concurrency_key = t.concurrency_key))
      ORDER BY t.fair_seq, t.id
      LIMIT ${request.limit}
      FOR UPDATE SKIP LOCKED
    )`,
  );
  const union = sql.join(
    CLAIM_ORDER[request.slotClass].map((_, index) => sql`SELECT * FROM c${sql.raw(String(index))}`),
    sql` UNION ALL `,
  );
  return sql`
    WITH ${sql.join(ranks, sql`, `)},
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
    )
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
    RETURNING ${taskColumns('tasks')}`;
}
