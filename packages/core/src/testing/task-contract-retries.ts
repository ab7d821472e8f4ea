import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import { ProServerError } from '../errors.js';
import { NonRetryableError, type TaskAbortError } from '../tasks/task-error.js';
import { isStatus, Latch, type TaskContractContext, waitForTask, waitUntil } from './task-contract-context.js';

const SYSTEM = SYSTEM_PRINCIPAL;
const empty = z.object({}).optional();

/** Handler errors, backoff, timeouts, leases and the reaper. */
export function describeTaskRetries(ctx: TaskContractContext): void {
  describe('retries', () => {
    it('backs off exponentially between attempts, capped, then fails for good', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('backoff');
      const attempts: string[] = [];
      core.tasks.define({
        type,
        payload: empty,
        run(c) {
          attempts.push(`${c.attempt}@${ctx.clock.now().toISOString()}`);
          throw new Error(`attempt ${c.attempt} failed`);
        },
      });
      const retry = {
        maxAttempts: 4,
        backoff: 'exponential' as const,
        initialDelayMs: 1000,
        maxDelayMs: 3000,
        jitter: false,
      };
      const task = await core.tasks.submit(SYSTEM, { type, retry });
      const start = ctx.clock.now().getTime();
      const at = (ms: number) => new Date(start + ms).toISOString();
      // attempt 1 at 0 → wait 1000 → attempt 2 → wait 2000 → attempt 3 → wait min(4000, 3000) → attempt 4.
      let waited = 0;
      for (const [attempt, delay] of [
        [1, 1000],
        [2, 2000],
        [3, 3000],
      ] as const) {
        const pending = await waitForTask(core, task.id, (t) => t.status === 'pending' && t.attempt === attempt);
        expect(pending.runAt).toBe(at(waited + delay));
        expect(pending.error).toMatchObject({
          code: 'TASK_FAILED',
          message: `attempt ${attempt} failed`,
          retryable: true,
        });
        ctx.clock.advance(delay - 1);
        core.tasks.wake();
        expect((await core.tasks.get(SYSTEM, task.id)).attempt).toBe(attempt);
        ctx.clock.advance(1);
        waited += delay;
        core.tasks.wake();
      }
      const failed = await core.tasks.waitForFinal(task.id, 10_000);
      expect(failed).toMatchObject({ status: 'failed', attempt: 4, error: { message: 'attempt 4 failed' } });
      expect(attempts).toEqual([`1@${at(0)}`, `2@${at(1000)}`, `3@${at(3000)}`, `4@${at(6000)}`]);
    });

    it('applies full jitter: each delay is uniform between 0 and the backoff delay', async () => {
      const core = await ctx.startCore({ tasks: { random: () => 0.25 } });
      const type = ctx.uniqueType('jitter');
      core.tasks.define({
        type,
        payload: empty,
        retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10_000, maxDelayMs: 10_000 },
        run() {
          throw new Error('again');
        },
      });
      const task = await core.tasks.submit(SYSTEM, { type });
      const pending = await waitForTask(core, task.id, (t) => t.status === 'pending' && t.attempt === 1);
      expect(pending.runAt).toBe(new Date(ctx.clock.now().getTime() + 2500).toISOString());
      ctx.clock.advance(2500);
      core.tasks.wake();
      expect((await core.tasks.waitForFinal(task.id, 10_000)).attempt).toBe(2);
    });

    it('aborts an attempt that outlives timeoutMs and fails it with TASK_TIMEOUT', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('slow');
      const reasons: unknown[] = [];
      core.tasks.define({
        type,
        payload: empty,
        timeoutMs: 20,
        retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 0, maxDelayMs: 0 },
        run: (c) =>
          new Promise((_, reject) =>
            c.signal.addEventListener('abort', () => {
              reasons.push((c.signal.reason as TaskAbortError).reason);
              reject(c.signal.reason);
            }),
          ),
      });
      const task = await core.tasks.submit(SYSTEM, { type });
      const failed = await core.tasks.waitForFinal(task.id, 10_000);
      expect(failed).toMatchObject({
        status: 'failed',
        attempt: 2,
        error: { code: 'TASK_TIMEOUT', retryable: true },
      });
      expect(reasons).toEqual(['timeout', 'timeout']);
    });
  });

  describe('leases', () => {
    it('re-queues a task whose holder stopped renewing its lease, counting the attempt', async () => {
      // No worker runs until the "dead" process's lease is reaped: a live one starting up could
      // claim the task before it (its first claim round races the test).
      const api = await ctx.startCore({ tasks: { leaseMs: 30_000, workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('orphan');
      api.tasks.define({ type, payload: empty, run: () => null });
      const store = api.storage.tasks;
      const task = await api.tasks.submit(SYSTEM, { type });
      // A "process" that claims the task and dies: it exists only as a lease owner in the store.
      const now = ctx.clock.now();
      const claimed = await store.claim(
        {
          workerId: 'dead-worker',
          slotClass: 'normal',
          limit: 1,
          types: [type],
          leaseExpiresAt: new Date(now.getTime() + 30_000),
          agedBefore: new Date(now.getTime() - 60_000),
        },
        now,
      );
      expect(claimed.map((r) => r.id)).toEqual([task.id]);
      ctx.clock.advance(29_999);
      expect(await api.tasks.maintenance.reapExpiredLeases()).toBe(0);
      ctx.clock.advance(1);
      expect(await api.tasks.maintenance.reapExpiredLeases()).toBeGreaterThanOrEqual(1);
      // A live worker takes it again, as its second attempt.
      const worker = await ctx.startCore({ tasks: { leaseMs: 30_000 } });
      worker.tasks.define({ type, payload: empty, run: () => null });
      worker.tasks.wake();
      const done = await worker.tasks.waitForFinal(task.id, 10_000);
      expect(done).toMatchObject({ status: 'completed', attempt: 2 });
      // The dead worker's late outcome is refused: it no longer holds the lease.
      const late = await store.finish(
        'dead-worker',
        [
          {
            id: task.id,
            attempt: 1,
            status: 'failed',
            release: false,
            result: null,
            error: null,
            runAt: null,
            progress: null,
            stage: null,
            stages: [],
          },
        ],
        ctx.clock.now(),
      );
      expect(late).toEqual([]);
      expect((await api.tasks.get(SYSTEM, task.id)).status).toBe('completed');
    });

    it('fails with LEASE_EXPIRED when the lost lease was the last attempt', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('last');
      core.tasks.define({ type, payload: empty, retry: { maxAttempts: 1 }, run: () => null });
      const task = await core.tasks.submit(SYSTEM, { type });
      const now = ctx.clock.now();
      await core.storage.tasks.claim(
        {
          workerId: 'dead',
          slotClass: 'normal',
          limit: 1,
          types: [type],
          leaseExpiresAt: new Date(now.getTime() + 1000),
          agedBefore: now,
        },
        now,
      );
      ctx.clock.advance(1000);
      await core.tasks.maintenance.reapExpiredLeases();
      expect(await core.tasks.get(SYSTEM, task.id)).toMatchObject({
        status: 'failed',
        attempt: 1,
        error: { code: 'LEASE_EXPIRED' },
        finishedAt: ctx.clock.now().toISOString(),
      });
    });

    it('aborts a handler whose lease was lost (signal reason "lease lost") and writes nothing for it', async () => {
      const core = await ctx.startCore({ tasks: { leaseMs: 30_000, heartbeatMs: 10 } });
      const type = ctx.uniqueType('lost');
      const started = new Latch();
      const reasons: string[] = [];
      core.tasks.define({
        type,
        payload: empty,
        run: (c) =>
          new Promise((resolve) => {
            started.resolve();
            c.signal.addEventListener('abort', () => {
              reasons.push((c.signal.reason as TaskAbortError).reason);
              resolve('too late');
            });
          }),
      });
      const task = await core.tasks.submit(SYSTEM, { type });
      await started.promise;
      // The heartbeat renews with the manual clock; jump past the lease and reap before it runs again.
      ctx.clock.advance(60_000);
      await core.tasks.maintenance.reapExpiredLeases();
      await waitUntil(() => reasons.length > 0, 'the handler is aborted');
      expect(reasons[0]).toBe('lease lost');
      // The task was re-queued by the reaper; the aborted handler's "too late" result is not written.
      const after = await waitForTask(core, task.id, isStatus('completed', 'pending', 'running'));
      if (after.status === 'completed') expect((await core.tasks.result(SYSTEM, task.id)).result).not.toBe('too late');
      await core.tasks.cancel(SYSTEM, task.id).catch(() => {});
    });
  });

  describe('handler errors', () => {
    it('records thrown errors as task errors and never stops the worker', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('thrower');
      core.tasks.define({
        type,
        payload: z.object({ kind: z.string() }),
        retry: { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 0, maxDelayMs: 0 },
        run(c) {
          switch (c.payload.kind) {
            case 'coded':
              throw new ProServerError('CONFLICT', 'a coded failure');
            case 'non-retryable':
              throw new NonRetryableError('give up', 'ORG_AUTH_EXPIRED', { org: 'uat' });
            case 'flagged':
              throw Object.assign(new Error('flagged'), { retryable: false });
            case 'string':
              throw 'just a string';
            default:
              throw new Error('plain');
          }
        },
      });
      const submit = (kind: string) => core.tasks.submit(SYSTEM, { type, payload: { kind } });
      const [coded, nonRetryable, flagged, text, plain] = await Promise.all(
        ['coded', 'non-retryable', 'flagged', 'string', 'plain'].map(submit),
      );
      const final = async (id: string) => core.tasks.waitForFinal(id, 10_000);
      expect(await final(coded!.id)).toMatchObject({
        status: 'failed',
        attempt: 3,
        error: { code: 'CONFLICT', message: 'a coded failure', retryable: true },
      });
      expect(await final(nonRetryable!.id)).toMatchObject({
        status: 'failed',
        attempt: 1,
        error: { code: 'ORG_AUTH_EXPIRED', message: 'give up', retryable: false, details: { org: 'uat' } },
      });
      expect(await final(flagged!.id)).toMatchObject({ status: 'failed', attempt: 1, error: { retryable: false } });
      expect(await final(text!.id)).toMatchObject({
        attempt: 3,
        error: { code: 'TASK_FAILED', message: 'just a string' },
      });
      expect(await final(plain!.id)).toMatchObject({ attempt: 3, error: { code: 'TASK_FAILED', message: 'plain' } });
      const after = await core.tasks.submit(SYSTEM, { type: 'diagnostics.echo', payload: { value: 'still alive' } });
      expect((await core.tasks.waitForFinal(after.id, 10_000)).status).toBe('completed');
    });
  });
}
