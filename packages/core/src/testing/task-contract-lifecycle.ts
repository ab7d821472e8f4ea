import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import { TaskAbortError } from '../tasks/task-error.js';
import {
  expectTaskError,
  Latch,
  type TaskContractContext,
  tokenPrincipal,
  waitForTask,
} from './task-contract-context.js';

const SYSTEM = SYSTEM_PRINCIPAL;
const empty = z.object({}).optional();

/** Submit, read, list, logs, progress and stages, cancel and retry. */
export function describeTaskLifecycle(ctx: TaskContractContext): void {
  describe('submit and read', () => {
    it('runs a task to completion and reports it through get, status, result and list', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('double');
      core.tasks.define({ type, payload: z.object({ n: z.number() }), run: (c) => ({ doubled: c.payload.n * 2 }) });
      const submitted = await core.tasks.submit(SYSTEM, { type, payload: { n: 21 }, tags: ['life'] });
      // Pending, or already running when this process's idle worker took it (see the handoff part).
      expect([
        ['pending', 0],
        ['running', 1],
      ]).toContainEqual([submitted.status, submitted.attempt]);
      expect(submitted).toMatchObject({
        type,
        priority: 'normal',
        payload: { n: 21 },
        maxAttempts: 3,
        submitter: 'system',
        tags: ['life'],
        parentId: null,
        recurrence: null,
        runAt: ctx.clock.now().toISOString(),
        createdAt: ctx.clock.now().toISOString(),
      });
      expect(submitted.id).toMatch(/^task_/);
      const done = await core.tasks.waitForFinal(submitted.id, 10_000);
      expect(done).toMatchObject({ status: 'completed', attempt: 1, error: null });
      expect(done.finishedAt).toBe(ctx.clock.now().toISOString());
      expect(await core.tasks.result(SYSTEM, submitted.id)).toEqual({
        status: 'completed',
        result: { doubled: 42 },
        stages: [],
        error: null,
      });
      expect(await core.tasks.status(SYSTEM, submitted.id)).toMatchObject({ status: 'completed', attempt: 1 });
      const listed = await core.tasks.list(SYSTEM, { type, status: 'completed', tag: 'life' });
      expect(listed.items.map((t) => t.id)).toEqual([submitted.id]);
      expect((await core.tasks.list(SYSTEM, { type, status: 'failed' })).items).toEqual([]);
    });

    it('lists newest first with keyset pagination and every filter', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('listed');
      core.tasks.define({ type, payload: z.unknown(), run: () => null });
      const a = tokenPrincipal('tok_lista');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const task = await core.tasks.submit(i % 2 === 0 ? a : SYSTEM, {
          type,
          payload: i,
          priority: i === 4 ? 'batch' : 'normal',
          tags: i < 2 ? ['first'] : [],
        });
        ids.push(task.id);
      }
      const page1 = await core.tasks.list(SYSTEM, { type, limit: 2 });
      expect(page1.items.map((t) => t.id)).toEqual([ids[4], ids[3]]);
      expect(page1.nextCursor).not.toBeNull();
      const page2 = await core.tasks.list(SYSTEM, { type, limit: 2, cursor: page1.nextCursor as string });
      expect(page2.items.map((t) => t.id)).toEqual([ids[2], ids[1]]);
      const page3 = await core.tasks.list(SYSTEM, { type, limit: 2, cursor: page2.nextCursor as string });
      expect(page3).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
      expect((await core.tasks.list(SYSTEM, { type, submitter: 'tok_lista' })).items).toHaveLength(3);
      expect((await core.tasks.list(SYSTEM, { type, priority: 'batch' })).items.map((t) => t.id)).toEqual([ids[4]]);
      expect((await core.tasks.list(SYSTEM, { type, tag: 'first' })).items).toHaveLength(2);
      expect((await core.tasks.list(SYSTEM, { type, status: 'pending' })).items).toHaveLength(5);
      await expectTaskError(core.tasks.list(SYSTEM, { cursor: 'not-a-cursor' }), 'VALIDATION_FAILED');
      for (const id of ids) await core.tasks.cancel(SYSTEM, id);
    });

    it('shows progress, stages and logs while the task runs, and keeps them after', async () => {
      const core = await ctx.startCore({ tasks: { logLinesPerTask: 4 } });
      const type = ctx.uniqueType('staged');
      const release = new Latch();
      core.tasks.define({
        type,
        payload: empty,
        async run(c) {
          c.log.info('starting', { step: 0 });
          await c.stage('fetch', () => ({ rows: 3 }));
          c.progress(40, 'fetched');
          await c.stage('wait', () => release.promise);
          await c
            .stage('broken', () => {
              throw new Error('stage failed');
            })
            .catch(() => c.log.warn('recovered'));
          for (let i = 0; i < 5; i++) c.log.error(`line ${i}`);
          return 'ok';
        },
      });
      const task = await core.tasks.submit(SYSTEM, { type });
      await waitForTask(core, task.id, (t) => t.stage === 'wait' && t.progress?.percent === 40);
      const running = await core.tasks.status(SYSTEM, task.id);
      expect(running).toMatchObject({
        status: 'running',
        progress: { percent: 40, message: 'fetched' },
        stage: 'wait',
      });
      expect(running.stages.map((s) => [s.name, s.status])).toEqual([
        ['fetch', 'completed'],
        ['wait', 'running'],
      ]);
      expect(running.stages[0]?.result).toEqual({ rows: 3 });
      const partial = await core.tasks.result(SYSTEM, task.id);
      expect(partial).toMatchObject({ status: 'running', result: null });
      release.resolve();
      await core.tasks.waitForFinal(task.id, 10_000);
      const result = await core.tasks.result(SYSTEM, task.id);
      expect(result.result).toBe('ok');
      expect(result.stages.map((s) => [s.name, s.status])).toEqual([
        ['fetch', 'completed'],
        ['wait', 'completed'],
        ['broken', 'failed'],
      ]);
      expect(result.stages[2]?.error).toMatchObject({ code: 'TASK_FAILED', message: 'stage failed' });
      const logs = await core.tasks.logs(SYSTEM, task.id);
      expect(logs.items.map((l) => [l.seq, l.level, l.message])).toEqual([
        [1, 'info', 'starting'],
        [2, 'warn', 'recovered'],
        [3, 'error', 'line 0'],
        [4, 'error', 'line 1'],
        [5, 'warn', 'log truncated'],
      ]);
      expect(logs.items[0]?.fields).toEqual({ step: 0 });
      const tail = await core.tasks.logs(SYSTEM, task.id, { after: 3, limit: 1 });
      expect(tail).toEqual({ items: [expect.objectContaining({ seq: 4 })], nextAfter: 4 });
      expect((await core.tasks.logs(SYSTEM, task.id, { after: 5 })).nextAfter).toBeNull();
    });
  });

  describe('cancel and retry', () => {
    it('cancels a pending task at once, and refuses to cancel it again', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('later');
      let runs = 0;
      core.tasks.define({ type, payload: empty, run: () => void runs++ });
      const runAt = new Date(ctx.clock.now().getTime() + 3_600_000).toISOString();
      const task = await core.tasks.submit(SYSTEM, { type, runAt });
      const cancelled = await core.tasks.cancel(SYSTEM, task.id);
      expect(cancelled).toMatchObject({ status: 'cancelled', finishedAt: ctx.clock.now().toISOString() });
      const error = await expectTaskError(core.tasks.cancel(SYSTEM, task.id), 'TASK_NOT_CANCELLABLE');
      expect(error.details).toEqual({ status: 'cancelled' });
      ctx.clock.advance(3_600_000);
      core.tasks.wake();
      expect((await core.tasks.get(SYSTEM, task.id)).status).toBe('cancelled');
      expect(runs).toBe(0);
    });

    it('cancels a running task: its signal aborts and it ends cancelled', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('abortable');
      const started = new Latch();
      let reason: unknown;
      core.tasks.define({
        type,
        payload: empty,
        run: (c) =>
          new Promise((_, reject) => {
            started.resolve();
            c.signal.addEventListener('abort', () => {
              reason = c.signal.reason;
              reject(c.signal.reason);
            });
          }),
      });
      const task = await core.tasks.submit(SYSTEM, { type });
      await started.promise;
      const requested = await core.tasks.cancel(SYSTEM, task.id);
      expect(requested.status).toBe('running');
      const done = await core.tasks.waitForFinal(task.id, 10_000);
      expect(done.status).toBe('cancelled');
      expect(reason).toBeInstanceOf(TaskAbortError);
      expect((reason as TaskAbortError).reason).toBe('cancelled');
    });

    it('ends cancelled even when the handler ignores the signal and returns a result', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('stubborn');
      const started = new Latch();
      const release = new Latch();
      core.tasks.define({
        type,
        payload: empty,
        async run() {
          started.resolve();
          await release.promise;
          return 'finished anyway';
        },
      });
      const task = await core.tasks.submit(SYSTEM, { type });
      await started.promise;
      await core.tasks.cancel(SYSTEM, task.id);
      release.resolve();
      expect((await core.tasks.waitForFinal(task.id, 10_000)).status).toBe('cancelled');
      await expectTaskError(core.tasks.cancel(SYSTEM, task.id), 'TASK_NOT_CANCELLABLE');
    });

    it('retries a failed task with a fresh attempt budget; refuses other states', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('flaky');
      let calls = 0;
      core.tasks.define({
        type,
        payload: empty,
        retry: { maxAttempts: 1 },
        run() {
          calls++;
          if (calls === 1) throw new Error('first call fails');
          return calls;
        },
      });
      const task = await core.tasks.submit(SYSTEM, { type });
      const failed = await core.tasks.waitForFinal(task.id, 10_000);
      expect(failed).toMatchObject({
        status: 'failed',
        attempt: 1,
        error: { code: 'TASK_FAILED', message: 'first call fails' },
      });
      const retried = await core.tasks.retry(SYSTEM, task.id);
      expect(retried).toMatchObject({ status: 'pending', attempt: 0, error: null });
      const done = await core.tasks.waitForFinal(task.id, 10_000);
      expect(done).toMatchObject({ status: 'completed', attempt: 1 });
      const conflict = await expectTaskError(core.tasks.retry(SYSTEM, task.id), 'CONFLICT');
      expect(conflict.details).toEqual({ status: 'completed' });
    });

    it('answers NOT_FOUND for unknown ids everywhere', async () => {
      const core = await ctx.startCore();
      const id = 'task_00000000000000000000000000';
      await expectTaskError(core.tasks.get(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.status(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.result(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.logs(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.cancel(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.retry(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.stopRecurring(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.runs(SYSTEM, id), 'NOT_FOUND');
      await expectTaskError(core.tasks.get(SYSTEM, 'x'.repeat(5000)), 'NOT_FOUND');
    });
  });
}
