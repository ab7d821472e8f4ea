/**
 * The drizzle schema: the same tables the migrations in `migrations.ts` create. Columns that
 * hold JSON are `jsonb`; keys use the "C" collation so that ordering is bytewise (the same
 * order as the memory adapter's string comparison for ASCII keys) and `LIKE 'prefix%'` can
 * use the primary-key index.
 */
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const time = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const kvEntries = pgTable(
  'kv_entries',
  {
    key: text('key').primaryKey(),
    value: jsonb('value').notNull(),
    version: integer('version').notNull(),
    tags: jsonb('tags').$type<string[]>().notNull(),
    expiresAt: time('expires_at'),
    createdAt: time('created_at').notNull(),
    updatedAt: time('updated_at').notNull(),
  },
  (t) => [index('kv_entries_expires_at_idx').on(t.expiresAt)],
);

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').unique(),
  role: text('role', { enum: ['owner', 'member'] }).notNull(),
  createdAt: time('created_at').notNull(),
  deletedAt: time('deleted_at'),
});

export const applicationTokens = pgTable(
  'application_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    last4: text('last4').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    secretHash: text('secret_hash').notNull().unique(),
    previousSecretHash: text('previous_secret_hash').unique(),
    previousSecretExpiresAt: time('previous_secret_expires_at'),
    createdAt: time('created_at').notNull(),
    expiresAt: time('expires_at').notNull(),
    lastUsedAt: time('last_used_at'),
    lastUsedIp: text('last_used_ip'),
    revokedAt: time('revoked_at'),
    rotatedAt: time('rotated_at'),
  },
  (t) => [index('application_tokens_user_idx').on(t.userId, t.id)],
);

/** Tasks and recurring-task schedules (see migration 2 for the partial indexes the claim uses). */
export const tasks = pgTable('tasks', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  status: text('status').notNull(),
  priority: text('priority').notNull(),
  payload: jsonb('payload').notNull(),
  result: jsonb('result'),
  error: jsonb('error'),
  attempt: integer('attempt').notNull(),
  maxAttempts: integer('max_attempts').notNull(),
  retry: jsonb('retry').notNull(),
  timeoutMs: integer('timeout_ms').notNull(),
  progress: jsonb('progress'),
  stage: text('stage'),
  stages: jsonb('stages').notNull(),
  runAt: time('run_at').notNull(),
  createdAt: time('created_at').notNull(),
  startedAt: time('started_at'),
  finishedAt: time('finished_at'),
  submitter: text('submitter').notNull(),
  tags: jsonb('tags').$type<string[]>().notNull(),
  concurrencyKey: text('concurrency_key'),
  parentId: text('parent_id'),
  recurrence: jsonb('recurrence'),
  isSchedule: boolean('is_schedule').notNull(),
  runCount: integer('run_count').notNull(),
  idempotencyKey: text('idempotency_key'),
  cancelRequested: boolean('cancel_requested').notNull(),
  leaseOwner: text('lease_owner'),
  leaseExpiresAt: time('lease_expires_at'),
  fairSeq: bigint('fair_seq', { mode: 'number' }).notNull(),
  logCount: integer('log_count').notNull(),
});

/** The fair-queue lanes: last position handed to each (priority, submitter). */
export const taskLanes = pgTable(
  'task_lanes',
  {
    priority: text('priority').notNull(),
    submitter: text('submitter').notNull(),
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.priority, t.submitter] })],
);

/** Log lines of a task, in order (deleted with the task). */
export const taskLogs = pgTable(
  'task_logs',
  {
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    at: time('at').notNull(),
    level: text('level').notNull(),
    message: text('message').notNull(),
    fields: jsonb('fields'),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.seq] })],
);
