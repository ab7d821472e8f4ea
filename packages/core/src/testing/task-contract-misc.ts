import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import { ECHO_TASK_TYPE } from '../tasks/echo-task.js';
import {
  expectTaskError,
  Latch,
  type TaskContractContext,
  tokenPrincipal,
  waitForTask,
  waitUntil,
} from './task-contract-context.js';

const SYSTEM = SYSTEM_PRINCIPAL;
const empty = z.object({}).optional();

/** Idempotency, concurrency keys, retention, diagnostics.echo, queue depths. */
export function describeTaskMisc(ctx: TaskContractContext): void {
  describe('idempotency', () => {
    it('returns the original task for a repeated key of the same submitter within 24 h', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('idem');
      core.tasks.define({ type, payload: z.unknown(), run: () => null });
      const a = tokenPrincipal('tok_idem_a');
      const first = await core.tasks.submit(a, { type, payload: 1, idempotencyKey: 'build-42' });
      const again = await core.tasks.submit(a, { type, payload: 2, idempotencyKey: 'build-42' });
      expect(again).toEqual(first);
      const other = await core.tasks.submit(tokenPrincipal('tok_idem_b'), {
        type,
        payload: 3,
        idempotencyKey: 'build-42',
      });
      expect(other.id).not.toBe(first.id);
      const [x, y] = await core.tasks.submitMany(a, [
        { type, payload: 4, idempotencyKey: 'batch-key' },
        { type, payload: 5, idempotencyKey: 'batch-key' },
      ]);
      expect(y?.id).toBe(x?.id);
      expect((await core.tasks.list(SYSTEM, { type })).items).toHaveLength(3);
      ctx.clock.advance(24 * 3600 * 1000 + 1);
      const later = await core.tasks.submit(a, { type, payload: 6, idempotencyKey: 'build-42' });
      expect(later.id).not.toBe(first.id);
      expect(later.payload).toBe(6);
      for (const t of (await core.tasks.list(SYSTEM, { type })).items) await core.tasks.cancel(SYSTEM, t.id);
    });
  });

  describe('concurrency keys', () => {
    it('runs at most one task per key at a time, and other keys meanwhile', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 3, batch: 0 } } });
      const type = ctx.uniqueType('keyed');
      const running = new Set<string>();
      const log: string[] = [];
      const gates = new Map<string, Latch>();
      core.tasks.define({
        type,
        payload: z.object({ name: z.string(), key: z.string() }),
        async run(c) {
          if (running.has(c.payload.key)) log.push(`OVERLAP ${c.payload.key}`);
          running.add(c.payload.key);
          log.push(`start ${c.payload.name}`);
          const gate = new Latch();
          gates.set(c.payload.name, gate);
          await gate.promise;
          running.delete(c.payload.key);
        },
      });
      const submit = (name: string, key: string) =>
        core.tasks.submit(SYSTEM, { type, concurrencyKey: key, payload: { name, key } });
      await submit('org1-a', 'org1');
      await submit('org1-b', 'org1');
      await submit('org2-a', 'org2');
      await waitUntil(() => gates.has('org1-a') && gates.has('org2-a'), 'one task per key starts');
      expect(gates.has('org1-b')).toBe(false);
      gates.get('org1-a')?.resolve();
      await waitUntil(() => gates.has('org1-b'), 'the second task of org1 starts');
      gates.get('org1-b')?.resolve();
      gates.get('org2-a')?.resolve();
      await waitUntil(
        async () => (await core.tasks.list(SYSTEM, { type, status: 'completed' })).items.length === 3,
        'all done',
      );
      expect(log.filter((l) => l.startsWith('OVERLAP'))).toEqual([]);
    });
  });

  describe('retention', () => {
    it('purges final tasks and their logs after the retention, never pending ones', async () => {
      const core = await ctx.startCore({ tasks: { retentionMs: 7 * 24 * 3600 * 1000 } });
      const type = ctx.uniqueType('old');
      core.tasks.define({
        type,
        payload: empty,
        run: (c) => {
          c.log.info('kept a while');
          return 1;
        },
      });
      const done = await core.tasks.submit(SYSTEM, { type });
      await core.tasks.waitForFinal(done.id, 10_000);
      const waiting = await core.tasks.submit(SYSTEM, {
        type,
        runAt: new Date(ctx.clock.now().getTime() + 30 * 24 * 3600 * 1000).toISOString(),
      });
      ctx.clock.advance(7 * 24 * 3600 * 1000);
      await core.tasks.maintenance.purgeFinished();
      expect((await core.tasks.logs(SYSTEM, done.id)).items).toHaveLength(1);
      ctx.clock.advance(1);
      expect(await core.tasks.maintenance.purgeFinished()).toBeGreaterThanOrEqual(1);
      await expectTaskError(core.tasks.get(SYSTEM, done.id), 'NOT_FOUND');
      expect(await core.storage.tasks.readLogs(done.id, 0, 10)).toEqual([]);
      expect((await core.tasks.get(SYSTEM, waiting.id)).status).toBe('pending');
      await core.tasks.cancel(SYSTEM, waiting.id);
    });
  });

  describe('diagnostics.echo', () => {
    it('reports evenly spaced progress in stages and returns its value', async () => {
      const core = await ctx.startCore();
      expect(core.tasks.types().map((t) => t.type)).toContain(ECHO_TASK_TYPE);
      const task = await core.tasks.submit(SYSTEM, {
        type: ECHO_TASK_TYPE,
        payload: { value: { a: [1] }, progressSteps: 4 },
      });
      const done = await core.tasks.waitForFinal(task.id, 10_000);
      expect(done).toMatchObject({ status: 'completed', progress: { percent: 100, message: 'step 4 of 4' } });
      const result = await core.tasks.result(SYSTEM, task.id);
      expect(result.result).toEqual({ value: { a: [1] } });
      expect(result.stages.map((s) => [s.name, s.status, s.result])).toEqual([
        ['step-1', 'completed', { step: 1 }],
        ['step-2', 'completed', { step: 2 }],
        ['step-3', 'completed', { step: 3 }],
        ['step-4', 'completed', { step: 4 }],
      ]);
    });

    it('fails its first failTimes attempts with a retryable error, then succeeds', async () => {
      const core = await ctx.startCore();
      const retrying: number[] = [];
      core.tasks.on('task.retrying', ({ attempt, error }) => {
        if (error?.code === 'ECHO_PLANNED_FAILURE') retrying.push(attempt);
      });
      const task = await core.tasks.submit(SYSTEM, { type: ECHO_TASK_TYPE, payload: { failTimes: 2 } });
      const done = await core.tasks.waitForFinal(task.id, 10_000);
      expect(done).toMatchObject({ status: 'completed', attempt: 3 });
      expect(retrying).toEqual([1, 2]);
      const strict = await core.tasks.submit(SYSTEM, {
        type: ECHO_TASK_TYPE,
        payload: { failTimes: 2 },
        retry: { maxAttempts: 2 },
      });
      expect(await core.tasks.waitForFinal(strict.id, 10_000)).toMatchObject({
        status: 'failed',
        attempt: 2,
        error: { code: 'ECHO_PLANNED_FAILURE', retryable: true },
      });
    });

    it('honours its abort signal at once during a long delay', async () => {
      const core = await ctx.startCore();
      const task = await core.tasks.submit(SYSTEM, {
        type: ECHO_TASK_TYPE,
        payload: { delayMs: 600_000, progressSteps: 2 },
      });
      await waitForTask(core, task.id, (t) => t.status === 'running' && t.stage === 'step-1');
      await core.tasks.cancel(SYSTEM, task.id);
      const done = await core.tasks.waitForFinal(task.id, 5_000);
      expect(done.status).toBe('cancelled');
      expect((await core.tasks.status(SYSTEM, task.id)).stages).toMatchObject([{ name: 'step-1', status: 'failed' }]);
    });
  });

  describe('wake-ups between nodes', () => {
    it('starts a task submitted on an API-only node at once on a worker node (no polling)', async () => {
      const api = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const worker = await ctx.startCore();
      const type = ctx.uniqueType('wake');
      for (const core of [api, worker]) core.tasks.define({ type, payload: empty, run: () => null });
      // The first task proves the worker is up (whether its start-up claim or a wake-up found it).
      const first = await api.tasks.submit(SYSTEM, { type });
      await waitForTask(worker, first.id, (task) => task.status === 'completed');
      await waitUntil(() => worker.tasks.runningIds().length === 0, 'the worker is idle');
      // Polling is every 60 s here: only the submit's wake-up can bring the worker this one.
      const second = await api.tasks.submit(SYSTEM, { type });
      await waitForTask(worker, second.id, (task) => task.status === 'completed', 5_000);
    });
  });

  describe('queue depths and bulk submit', () => {
    it('counts pending work per priority', async () => {
      const core = await ctx.startCore({
        freshStorage: true,
        tasks: { workers: { critical: 0, normal: 0, batch: 0 } },
      });
      const type = ctx.uniqueType('depth');
      core.tasks.define({ type, payload: empty, run: () => null });
      const created = await core.tasks.submitMany(SYSTEM, [
        { type, priority: 'critical' },
        { type, priority: 'batch' },
        { type, priority: 'batch' },
        { type },
      ]);
      expect(created.map((t) => t.priority)).toEqual(['critical', 'batch', 'batch', 'normal']);
      expect(await core.tasks.queueDepths()).toEqual({ critical: 1, normal: 1, batch: 2 });
      await core.tasks.cancel(SYSTEM, created[1]?.id as string);
      expect(await core.tasks.queueDepths()).toEqual({ critical: 1, normal: 1, batch: 1 });
    });
  });
}
