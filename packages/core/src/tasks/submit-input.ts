import { authorize } from '../auth/scopes.js';
import type { Principal } from '../auth/types.js';
import { type FieldError, ProServerError } from '../errors.js';
import type { Ids } from '../ids.js';
import type { JsonValue } from '../kv/types.js';
import type { NewTask } from '../storage/ports.js';
import { jsonByteLength, parseInput } from '../validation.js';
import { firstOccurrence } from './recurrence.js';
import type { TaskRegistry } from './registry.js';
import { resolveRetryPolicy } from './retry-policy.js';
import type { SubmitTaskInput } from './types.js';
import { submitTaskInputSchema } from './validation.js';

/**
 * Who submitted: the application token's id, or `system` for core used directly. Tokens (not
 * users) are the unit of fairness and idempotency, so two pipelines of one user get separate lanes.
 */
export function submitterOf(actor: Principal): string {
  return actor.kind === 'system' ? 'system' : actor.tokenId;
}

export interface SubmitContext {
  registry: TaskRegistry;
  ids: Ids;
  now: Date;
  maxPayloadBytes: number;
}

function prefixed(errors: FieldError[] | undefined, prefix: string): FieldError[] {
  return (errors ?? []).map((e) => ({ path: e.path ? `${prefix}.${e.path}` : prefix, message: e.message }));
}

/**
 * Validates one submission completely (input shape, type, rights, payload schema and size,
 * schedule) and builds the row to insert. Throws before anything is written.
 */
export function buildNewTask(actor: Principal, input: SubmitTaskInput, context: SubmitContext): NewTask {
  const parsed = parseInput(submitTaskInputSchema, input);
  const registered = context.registry.get(parsed.type);
  if (!registered) {
    throw new ProServerError('VALIDATION_FAILED', `unknown task type ${parsed.type}`, {
      errors: [{ path: 'type', message: 'unknown task type' }],
    });
  }
  authorize(actor, 'tasks:write', parsed.type);
  const payload = (parsed.payload ?? null) as JsonValue;
  const size = jsonByteLength(payload);
  if (size > context.maxPayloadBytes) {
    throw new ProServerError('PAYLOAD_TOO_LARGE', `payload is ${size} bytes; the limit is ${context.maxPayloadBytes}`, {
      details: { size, maxPayloadBytes: context.maxPayloadBytes },
    });
  }
  const checked = registered.definition.payload.safeParse(parsed.payload);
  if (!checked.success) {
    const errors = checked.error.issues.map((issue) => ({
      path: ['payload', ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    throw new ProServerError(
      'INVALID_PAYLOAD',
      `payload is not valid for ${parsed.type} (${errors[0]?.path}: ${errors[0]?.message})`,
      {
        errors,
      },
    );
  }
  const retry = resolveRetryPolicy(registered.retry, parsed.retry);
  const start = parsed.runAt === undefined ? context.now : new Date(parsed.runAt);
  let runAt = start;
  if (parsed.recurrence) {
    const first = firstOccurrence(parsed.recurrence, start);
    if (!first) {
      throw new ProServerError('VALIDATION_FAILED', 'the recurrence has no occurrence before its until', {
        errors: [{ path: 'recurrence.until', message: 'no occurrence before until' }],
      });
    }
    runAt = first;
  }
  return {
    id: context.ids.next('task'),
    type: parsed.type,
    priority: parsed.priority ?? registered.priority,
    payload,
    maxAttempts: retry.maxAttempts,
    retry,
    timeoutMs: parsed.timeoutMs ?? registered.timeoutMs,
    runAt,
    submitter: submitterOf(actor),
    tags: parsed.tags ?? [],
    concurrencyKey: parsed.concurrencyKey ?? null,
    parentId: null,
    recurrence: parsed.recurrence ?? null,
    isSchedule: parsed.recurrence !== undefined,
    idempotencyKey: parsed.idempotencyKey ?? null,
  };
}

/** {@link buildNewTask} for a batch: every problem of every item, paths prefixed by the item's index. */
export function buildNewTasks(actor: Principal, inputs: readonly SubmitTaskInput[], context: SubmitContext): NewTask[] {
  if (inputs.length === 1) return [buildNewTask(actor, inputs[0] as SubmitTaskInput, context)];
  return inputs.map((input, index) => {
    try {
      return buildNewTask(actor, input, context);
    } catch (error) {
      if (error instanceof ProServerError && error.code !== 'FORBIDDEN') {
        throw new ProServerError(error.code, `item ${index}: ${error.message}`, {
          errors: prefixed(error.errors, String(index)),
          ...(error.details ? { details: { ...error.details, index } } : { details: { index } }),
        });
      }
      throw error;
    }
  });
}
