/**
 * `POST /api/tasks`: the body, the `Idempotency-Key` and `Prefer: wait=N` headers, and the
 * answer (202 with links, or 200 with the final task when a wait was asked for and was enough).
 * Every check runs before core writes anything; core validates the payload against its type.
 */
import { type Core, ProServerError, submitTaskInputSchema, type Task } from '@proserver/core';
import type { Context } from 'hono';
import { readJsonBody } from '../body.js';
import type { AppEnv } from '../env.js';
import type { ResolvedAppOptions } from '../options.js';

/** The submit body: the core input without `idempotencyKey`, which travels as a header. */
export const submitTaskBodySchema = submitTaskInputSchema.omit({ idempotencyKey: true });

/** Longest `Prefer: wait=N` honoured (SPEC §3). */
export const MAX_PREFER_WAIT_SECONDS = 60;
/** `Idempotency-Key`: 1 to 200 printable ASCII characters (RFC draft-ietf-httpapi-idempotency-key-header). */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,200}$/;

/** Where a task's resources live (`cancel` is its `self`, with `DELETE`). */
export interface TaskLinks {
  self: string;
  status: string;
  result: string;
  logs: string;
  cancel: string;
  /** Only on a recurring task. */
  runs?: string;
}

/**
 * The links of a task: where to read it, its status, result and logs, and how to cancel it
 * (`DELETE` on `cancel`). A recurring task also links its runs.
 *
 * @example
 * taskLinks('/api', 'task_01J…'); // { self: '/api/tasks/task_01J…', status: '/api/tasks/task_01J…/status', … }
 */
export function taskLinks(basePath: string, task: Pick<Task, 'id' | 'recurrence'>): TaskLinks {
  const self = `${basePath}/tasks/${encodeURIComponent(task.id)}`;
  return {
    self,
    status: `${self}/status`,
    result: `${self}/result`,
    logs: `${self}/logs`,
    cancel: self,
    ...(task.recurrence ? { runs: `${self}/runs` } : {}),
  };
}

/**
 * A task as a single-task answer carries it: the task plus its links.
 *
 * @example
 * return c.json(withLinks(options.basePath, task));
 */
export function withLinks(basePath: string, task: Task): Task & { links: TaskLinks } {
  return { ...task, links: taskLinks(basePath, task) };
}

/**
 * The `Idempotency-Key` header, or undefined. Present but not 1 to 200 printable characters:
 * 400 `VALIDATION_FAILED`.
 *
 * @example
 * readIdempotencyKey('deploy-42'); // 'deploy-42'
 */
export function readIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw new ProServerError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 200 printable ASCII characters', {
      errors: [{ path: 'Idempotency-Key', message: 'must be 1 to 200 printable ASCII characters' }],
    });
  }
  return header;
}

/**
 * The seconds of a `Prefer: wait=N` (RFC 7240), or undefined when the header asks for no wait.
 * Other preferences are ignored, as RFC 7240 says; a `wait` that is not a whole number from 0
 * to 60, or given twice, is a 400 (a client asking to wait should learn it did not work).
 *
 * @example
 * readPreferWait('respond-async, wait=10'); // 10
 */
export function readPreferWait(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const waits = header
    .split(',')
    .map((preference) => preference.split(';')[0]?.trim() ?? '')
    .filter((preference) => /^wait\s*(=|$)/i.test(preference));
  if (waits.length === 0) return undefined;
  const value = waits.length === 1 ? /^wait\s*=\s*"?(\d{1,2})"?$/i.exec(waits[0] ?? '')?.[1] : undefined;
  const seconds = value === undefined ? Number.NaN : Number(value);
  if (!(seconds >= 0 && seconds <= MAX_PREFER_WAIT_SECONDS)) {
    const message = `must be one wait=N with N a whole number of seconds from 0 to ${MAX_PREFER_WAIT_SECONDS}`;
    throw new ProServerError('VALIDATION_FAILED', `Prefer ${message}`, { errors: [{ path: 'Prefer', message }] });
  }
  return seconds;
}

/**
 * Handles `POST <basePath>/tasks`. Headers are checked first, then the body; core checks the
 * type, the caller's `tasks:write` scope for it, the payload (422) and its size (413).
 */
export async function submitTask(c: Context<AppEnv>, core: Core, options: ResolvedAppOptions): Promise<Response> {
  const idempotencyKey = readIdempotencyKey(c.req.header('idempotency-key'));
  const waitSeconds = readPreferWait(c.req.header('prefer'));
  const body = await readJsonBody(c, submitTaskBodySchema, { maxBytes: options.maxBodyBytes });
  let task = await core.tasks.submit(c.get('principal'), {
    ...body,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  });
  if (waitSeconds !== undefined) {
    task = await core.tasks.waitForFinal(task.id, waitSeconds * 1000);
    if (isFinal(task)) c.header('Preference-Applied', `wait=${waitSeconds}`);
  }
  const answer = withLinks(options.basePath, task);
  c.header('Location', answer.links.self);
  return c.json(answer, isFinal(task) && waitSeconds !== undefined ? 200 : 202);
}

function isFinal(task: Task): boolean {
  return task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled';
}
