import { z } from 'zod';
import { kvValueSchema } from '../kv/validation.js';
import type { TaskDefinition } from './types.js';

export const ECHO_TASK_TYPE = 'diagnostics.echo';

const echoPayloadSchema = z
  .strictObject({
    value: z.optional(kvValueSchema),
    delayMs: z.number().int('must be a whole number').min(0).max(600_000).optional(),
    progressSteps: z.number().int('must be a whole number').min(0).max(100).optional(),
    failTimes: z.number().int('must be a whole number').min(0).max(10).optional(),
  })
  .optional();

/** Waits `ms` on a real timer, rejecting with the signal's reason as soon as it aborts. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `diagnostics.echo`, always registered: a smoke test for pipelines and health checks.
 * Payload `{value?, delayMs?, progressSteps?, failTimes?}`: fails its first `failTimes`
 * attempts with a retryable error, then spreads `delayMs` over `progressSteps` stages
 * (`step-1`…), reporting evenly spaced progress, and returns `{value}`. It honours its abort
 * signal at once. Its retry policy allows 11 attempts without delay, so any `failTimes` it
 * accepts can succeed.
 *
 * @example
 * await core.tasks.submit(SYSTEM_PRINCIPAL, { type: 'diagnostics.echo', payload: { value: 'hi', progressSteps: 4 } });
 */
export const echoTaskDefinition: TaskDefinition<typeof echoPayloadSchema> = {
  type: ECHO_TASK_TYPE,
  description: 'Echoes its value back, with optional delay, progress stages and planned failures.',
  payload: echoPayloadSchema,
  priority: 'normal',
  timeoutMs: 15 * 60_000,
  retry: { maxAttempts: 11, backoff: 'fixed', initialDelayMs: 0, maxDelayMs: 0, jitter: false },
  async run(ctx) {
    const { value = null, delayMs = 0, progressSteps = 0, failTimes = 0 } = ctx.payload ?? {};
    ctx.signal.throwIfAborted();
    if (ctx.attempt <= failTimes) {
      throw Object.assign(new Error(`planned failure ${ctx.attempt} of ${failTimes}`), {
        code: 'ECHO_PLANNED_FAILURE',
        retryable: true,
      });
    }
    if (progressSteps === 0) {
      if (delayMs > 0) await abortableDelay(delayMs, ctx.signal);
      return { value };
    }
    for (let step = 1; step <= progressSteps; step++) {
      await ctx.stage(`step-${step}`, async () => {
        const stepDelay =
          Math.round((delayMs * step) / progressSteps) - Math.round((delayMs * (step - 1)) / progressSteps);
        if (stepDelay > 0) await abortableDelay(stepDelay, ctx.signal);
        ctx.progress((step * 100) / progressSteps, `step ${step} of ${progressSteps}`);
        return { step };
      });
    }
    return { value };
  },
};
