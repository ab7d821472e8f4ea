/**
 * The task input schemas (SPEC §3), shared by core and the HTTP routes.
 *
 * Decisions where the spec is silent:
 * - Type names: dotted identifiers (`salesforce.deploy`, `report.build`), 1 to 128 characters.
 * - `timeoutMs` is 1 ms to 24 h; `maxAttempts` 1 to 100; delays up to 24 h.
 * - `runAt` and `until` must be ISO 8601 with an explicit zone (`Z` or an offset): a time
 *   without a zone means different instants on different servers.
 * - `concurrencyKey` uses the key-value key alphabet, 1 to 256 characters.
 * - Tags follow the key-value tag rules (at most 32, no duplicates).
 */
import { z } from 'zod';
import { kvTagSchema, kvTagsSchema, kvValueSchema } from '../kv/validation.js';
import { storableText } from '../validation.js';
import { cronProblem, timezoneProblem } from './recurrence.js';
import type { Recurrence } from './types.js';

/** Task type names: dotted lowercase-or-camel identifiers. */
export const TASK_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*$/;
export const MAX_TASK_TIMEOUT_MS = 24 * 3600 * 1000;
export const MAX_TASK_ATTEMPTS = 100;
export const CONCURRENCY_KEY_PATTERN = /^[A-Za-z0-9_.:/@-]{1,256}$/;
const MAX_EVERY_SECONDS = 366 * 24 * 3600;
const MAX_RUNS = 1_000_000;

const isoWithZone = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time with a zone (Z or ±hh:mm)',
});

/**
 * A task type name.
 *
 * @example
 * taskTypeSchema.parse('salesforce.deploy');
 */
export const taskTypeSchema = z
  .string()
  .max(128, 'at most 128 characters')
  .regex(TASK_TYPE_PATTERN, 'must be dotted identifiers such as report.build');

export const taskPrioritySchema = z.enum(['critical', 'normal', 'batch']);
export const taskStatusSchema = z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']);

/**
 * A (partial) retry policy.
 *
 * @example
 * retryPolicyInputSchema.parse({ maxAttempts: 5, backoff: 'exponential' });
 */
export const retryPolicyInputSchema = z
  .strictObject({
    maxAttempts: z.number().int('must be a whole number').min(1).max(MAX_TASK_ATTEMPTS).optional(),
    backoff: z.enum(['fixed', 'exponential']).optional(),
    initialDelayMs: z.number().int('must be a whole number').min(0).max(MAX_TASK_TIMEOUT_MS).optional(),
    maxDelayMs: z.number().int('must be a whole number').min(0).max(MAX_TASK_TIMEOUT_MS).optional(),
    jitter: z.boolean().optional(),
  })
  .refine((p) => p.initialDelayMs === undefined || p.maxDelayMs === undefined || p.maxDelayMs >= p.initialDelayMs, {
    message: 'maxDelayMs must not be below initialDelayMs',
    path: ['maxDelayMs'],
  });

/**
 * `{cron, timezone?, until?, maxRuns?}` or `{everySeconds, until?, maxRuns?}`. One object with
 * a check rather than a union, so each problem is reported on its own field (`recurrence.cron`).
 *
 * @example
 * recurrenceSchema.parse({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' });
 */
export const recurrenceSchema = z
  .strictObject({
    cron: z.string().min(1).max(256).optional(),
    timezone: z.string().min(1).max(64).optional(),
    everySeconds: z.number().int('must be a whole number').min(1).max(MAX_EVERY_SECONDS).optional(),
    until: isoWithZone.optional(),
    maxRuns: z.number().int('must be a whole number').min(1).max(MAX_RUNS).optional(),
  })
  .check((ctx) => {
    const { cron, timezone, everySeconds } = ctx.value;
    const issue = (path: string, message: string) =>
      ctx.issues.push({ code: 'custom', message, input: ctx.value, path: [path] });
    if ((cron === undefined) === (everySeconds === undefined)) {
      issue(cron === undefined ? 'cron' : 'everySeconds', 'give either cron or everySeconds');
    }
    if (timezone !== undefined && cron === undefined) issue('timezone', 'a time zone needs a cron expression');
    const cronIssue = cron === undefined ? null : cronProblem(cron);
    if (cronIssue) issue('cron', cronIssue);
    const zoneIssue = timezone === undefined ? null : timezoneProblem(timezone);
    if (zoneIssue) issue('timezone', zoneIssue);
  }) as unknown as z.ZodType<Recurrence>;

/**
 * Body of a submit. The payload is checked afterwards against the type's own schema.
 *
 * @example
 * parseInput(submitTaskInputSchema, { type: 'diagnostics.echo', payload: { value: 1 }, priority: 'critical' });
 */
export const submitTaskInputSchema = z.strictObject({
  type: taskTypeSchema,
  payload: z.optional(kvValueSchema),
  priority: taskPrioritySchema.optional(),
  runAt: isoWithZone.optional(),
  recurrence: recurrenceSchema.optional(),
  retry: retryPolicyInputSchema.optional(),
  timeoutMs: z.number().int('must be a whole number').min(1).max(MAX_TASK_TIMEOUT_MS).optional(),
  concurrencyKey: z
    .string()
    .regex(CONCURRENCY_KEY_PATTERN, 'must be 1 to 256 characters of A-Z a-z 0-9 _ . : / @ -')
    .optional(),
  tags: kvTagsSchema.optional(),
  idempotencyKey: storableText(z.string().min(1).max(256)).optional(),
});

/**
 * Query of the task list (`limit` may arrive as a string).
 *
 * @example
 * parseInput(listTasksOptionsSchema, { status: 'failed', limit: '20' });
 */
export const listTasksOptionsSchema = z.strictObject({
  status: taskStatusSchema.optional(),
  type: taskTypeSchema.optional(),
  priority: taskPrioritySchema.optional(),
  tag: kvTagSchema.optional(),
  submitter: storableText(z.string().min(1).max(128)).optional(),
  parentId: storableText(z.string().min(1).max(64)).optional(),
  cursor: storableText(z.string().min(1).max(2048)).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
});

/** Query of a log read. */
export const readLogsOptionsSchema = z.strictObject({
  after: z.coerce.number().int('must be a whole number').min(0).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
});
