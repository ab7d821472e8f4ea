import { type SQL, sql } from 'drizzle-orm';
import type { JsonValue } from '../../kv/types.js';
import type {
  Recurrence,
  RetryPolicy,
  TaskError,
  TaskPriority,
  TaskProgress,
  TaskStage,
  TaskStatus,
} from '../../tasks/types.js';
import type { ClaimedTask, TaskRecord } from '../ports.js';
import { parseJson, toDate, toDateOrNull } from './sql-helpers.js';

/** A task row as both drivers return it: JSON as text, fair_seq as float8, times as strings. */
export interface TaskRow {
  id: string;
  type: string;
  status: string;
  priority: string;
  payload: string;
  result: string | null;
  error: string | null;
  attempt: number;
  max_attempts: number;
  retry: string;
  timeout_ms: number;
  progress: string | null;
  stage: string | null;
  stages: string;
  run_at: unknown;
  created_at: unknown;
  started_at: unknown;
  finished_at: unknown;
  submitter: string;
  tags: string;
  concurrency_key: string | null;
  parent_id: string | null;
  recurrence: string | null;
  is_schedule: boolean;
  run_count: number;
  idempotency_key: string | null;
  cancel_requested: boolean;
  lease_owner: string | null;
  lease_expires_at: unknown;
  fair_seq: number | string;
}

/**
 * The columns of a task, qualified by `alias` (UPDATE … FROM … RETURNING needs it). JSON
 * columns are read as text (see sql-helpers: drizzle's jsonb mapping corrupts top-level strings).
 */
export function taskColumns(alias = 'tasks'): SQL {
  const a = alias;
  return sql.raw(
    [
      `${a}.id, ${a}.type, ${a}.status, ${a}.priority, ${a}.payload::text AS payload, ${a}.result::text AS result`,
      `${a}.error::text AS error, ${a}.attempt, ${a}.max_attempts, ${a}.retry::text AS retry, ${a}.timeout_ms`,
      `${a}.progress::text AS progress, ${a}.stage, ${a}.stages::text AS stages, ${a}.run_at, ${a}.created_at`,
      `${a}.started_at, ${a}.finished_at, ${a}.submitter, ${a}.tags::text AS tags, ${a}.concurrency_key, ${a}.parent_id`,
      `${a}.recurrence::text AS recurrence, ${a}.is_schedule, ${a}.run_count, ${a}.idempotency_key`,
      `${a}.cancel_requested, ${a}.lease_owner, ${a}.lease_expires_at, ${a}.fair_seq::float8 AS fair_seq`,
    ].join(', '),
  );
}

/** The columns of a claimed task (see ClaimedTask), qualified by `alias`. */
export function claimedColumns(alias: string): SQL {
  const a = alias;
  return sql.raw(
    `${a}.id, ${a}.type, ${a}.priority, ${a}.payload::text AS payload, ${a}.attempt, ${a}.max_attempts, ` +
      `${a}.retry::text AS retry, ${a}.timeout_ms, ${a}.concurrency_key`,
  );
}

export type ClaimedRow = Pick<
  TaskRow,
  'id' | 'type' | 'priority' | 'payload' | 'attempt' | 'max_attempts' | 'retry' | 'timeout_ms' | 'concurrency_key'
>;

export function toClaimedTask(row: ClaimedRow): ClaimedTask {
  return {
    id: row.id,
    type: row.type,
    priority: row.priority as TaskPriority,
    payload: parseJson<JsonValue>(row.payload),
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    retry: parseJson<RetryPolicy>(row.retry),
    timeoutMs: Number(row.timeout_ms),
    concurrencyKey: row.concurrency_key,
  };
}

const jsonOrNull = <T>(text: string | null): T | null => (text === null ? null : parseJson<T>(text));

export function toTaskRecord(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    type: row.type,
    status: row.status as TaskStatus,
    priority: row.priority as TaskPriority,
    payload: parseJson<JsonValue>(row.payload),
    result: jsonOrNull<JsonValue>(row.result),
    error: jsonOrNull<TaskError>(row.error),
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    retry: parseJson<RetryPolicy>(row.retry),
    timeoutMs: Number(row.timeout_ms),
    progress: jsonOrNull<TaskProgress>(row.progress),
    stage: row.stage,
    stages: parseJson<TaskStage[]>(row.stages),
    runAt: toDate(row.run_at),
    createdAt: toDate(row.created_at),
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    submitter: row.submitter,
    tags: parseJson<string[]>(row.tags),
    concurrencyKey: row.concurrency_key,
    parentId: row.parent_id,
    recurrence: jsonOrNull<Recurrence>(row.recurrence),
    isSchedule: Boolean(row.is_schedule),
    runCount: Number(row.run_count),
    idempotencyKey: row.idempotency_key,
    cancelRequested: Boolean(row.cancel_requested),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: toDateOrNull(row.lease_expires_at),
    fairSeq: Number(row.fair_seq),
  };
}
