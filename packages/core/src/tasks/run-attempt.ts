import type { Clock } from '../clock.js';
import type { JsonValue } from '../kv/types.js';
import type { ClaimedTask, TaskOutcome } from '../storage/ports.js';
import type { AttemptAbort } from './attempt-abort.js';
import type { AttemptReporter } from './attempt-reporter.js';
import type { RegisteredType } from './registry.js';
import { retryDelayMs } from './retry-policy.js';
import { toTaskError } from './task-error.js';
import type { TaskError } from './types.js';

/** Largest result stored, as JSON text. */
export const MAX_RESULT_BYTES = 1024 * 1024;

export interface AttemptDeps {
  clock: Clock;
  random: () => number;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs one attempt of `record` with its handler under `abort` (aborted on
 * timeout here; on cancel, preemption, shutdown or lease loss by the worker) and decides the
 * outcome. Never throws: handler exceptions become task errors. Null means "write nothing"
 * (the lease was lost, so the attempt no longer belongs to this process).
 */
export async function runAttempt(
  record: ClaimedTask,
  registered: RegisteredType | undefined,
  abort: AttemptAbort,
  reporter: AttemptReporter,
  deps: AttemptDeps,
): Promise<TaskOutcome | null> {
  const timer = setTimeout(() => {
    abort.abort('timeout');
  }, record.timeoutMs);
  timer.unref?.();
  let settled: Settled;
  try {
    settled = { ok: true, value: await invoke(record, registered, abort, reporter) };
  } catch (error) {
    settled = { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
  try {
    await reporter.close();
  } catch {
    // Log lines that cannot be written are lost; the outcome still matters more.
  }
  const reason = abort.reason;
  if (reason === 'lease lost') return null;
  const base = {
    id: record.id,
    attempt: record.attempt,
    ...reporter.snapshot(),
    release: false,
    result: null,
    error: null,
    runAt: null,
  };
  if (reason === 'cancelled') {
    return { ...base, status: 'cancelled', result: settled.ok ? resultOf(settled.value).result : null };
  }
  if ((reason === 'preempted' || reason === 'shutdown') && !settled.ok) {
    return { ...base, status: 'pending', release: true };
  }
  if (reason === 'timeout') {
    const error: TaskError = {
      code: 'TASK_TIMEOUT',
      message: `the attempt did not finish within ${record.timeoutMs} ms`,
      retryable: true,
    };
    return failure(record, base, error, deps);
  }
  if (!settled.ok) return failure(record, base, toTaskError(settled.error), deps);
  const { result, error } = resultOf(settled.value);
  if (error) return failure(record, base, error, deps);
  return { ...base, status: 'completed', result };
}

async function invoke(
  record: ClaimedTask,
  registered: RegisteredType | undefined,
  abort: AttemptAbort,
  reporter: AttemptReporter,
): Promise<unknown> {
  if (!registered) {
    throw Object.assign(new Error(`no handler for task type ${record.type} in this process`), { retryable: false });
  }
  // Parsed again so the handler gets the schema's output (defaults, transforms) of the stored payload.
  // A submit without a payload is stored as null; the schema saw `undefined` then, so it gets it again.
  let parsed = registered.definition.payload.safeParse(record.payload);
  if (!parsed.success && record.payload === null) parsed = registered.definition.payload.safeParse(undefined);
  if (!parsed.success) {
    throw Object.assign(new Error('the stored payload no longer matches the type schema'), {
      code: 'INVALID_PAYLOAD',
      retryable: false,
    });
  }
  return registered.definition.run({
    taskId: record.id,
    type: record.type,
    payload: parsed.data,
    attempt: record.attempt,
    // A getter: the signal is made only for a handler that looks at it (see AttemptAbort).
    get signal() {
      return abort.signal;
    },
    ...reporter.contextParts(),
  });
}

function resultOf(value: unknown): { result: JsonValue; error: TaskError | null } {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    return {
      result: null,
      error: { code: 'RESULT_NOT_JSON', message: 'the handler returned a value that is not JSON', retryable: false },
    };
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_RESULT_BYTES) {
    return {
      result: null,
      error: {
        code: 'RESULT_TOO_LARGE',
        message: `the result is larger than ${MAX_RESULT_BYTES} bytes`,
        retryable: false,
      },
    };
  }
  return { result: JSON.parse(text) as JsonValue, error: null };
}

/** A failed attempt: back to pending after the backoff delay while attempts and retryability allow. */
function failure(
  record: ClaimedTask,
  base: Omit<TaskOutcome, 'status'>,
  error: TaskError,
  deps: AttemptDeps,
): TaskOutcome {
  if (error.retryable && record.attempt < record.maxAttempts) {
    const delay = retryDelayMs(record.retry, record.attempt, deps.random);
    return { ...base, status: 'pending', error, runAt: new Date(deps.clock.now().getTime() + delay) };
  }
  return { ...base, status: 'failed', error };
}
