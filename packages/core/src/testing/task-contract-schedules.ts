import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import { expectTaskError, type TaskContractContext } from './task-contract-context.js';

const SYSTEM = SYSTEM_PRINCIPAL;
const empty = z.object({}).optional();
const MINUTE = 60_000;

/** Recurring tasks: intervals, cron with time zones, until, maxRuns, missed occurrences, stop. */
export function describeTaskSchedules(ctx: TaskContractContext): void {
  describe('schedules', () => {
    it('spawns one run per interval occurrence, linked to the schedule, and completes at maxRuns', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('every');
      core.tasks.define({ type, payload: empty, run: (c) => c.taskId });
      const start = ctx.clock.now().getTime();
      const schedule = await core.tasks.submit(SYSTEM, { type, recurrence: { everySeconds: 60, maxRuns: 3 } });
      expect(schedule).toMatchObject({
        status: 'pending',
        recurrence: { everySeconds: 60, maxRuns: 3 },
        runAt: new Date(start).toISOString(),
        runCount: 0,
      });
      const runIds: string[] = [];
      for (let occurrence = 0; occurrence < 3; occurrence++) {
        expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(1);
        expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(0);
        const runs = await core.tasks.runs(SYSTEM, schedule.id);
        expect(runs.items).toHaveLength(occurrence + 1);
        const run = runs.items[0];
        expect(run).toMatchObject({ parentId: schedule.id, recurrence: null, type });
        expect(run?.runAt).toBe(new Date(start + occurrence * MINUTE).toISOString());
        runIds.push(run?.id as string);
        expect((await core.tasks.waitForFinal(run?.id as string, 10_000)).status).toBe('completed');
        ctx.clock.advance(MINUTE);
      }
      expect(await core.tasks.get(SYSTEM, schedule.id)).toMatchObject({ status: 'completed', runCount: 3 });
      expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(0);
      expect((await core.tasks.result(SYSTEM, runIds[0] as string)).result).toBe(runIds[0]);
      // The schedule itself is never claimed or retried.
      await expectTaskError(core.tasks.retry(SYSTEM, schedule.id), 'CONFLICT');
    });

    it('follows a cron expression in its time zone, across a daylight-saving change', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('cron');
      core.tasks.define({ type, payload: empty, run: () => null });
      // 09:00 in Paris: 08:00Z in winter (CET), 07:00Z in summer (CEST).
      const schedule = await core.tasks.submit(SYSTEM, {
        type,
        runAt: '2026-03-28T09:30:00+01:00',
        recurrence: { cron: '0 9 * * *', timezone: 'Europe/Paris' },
      });
      expect(schedule.runAt).toBe('2026-03-29T07:00:00.000Z');
      ctx.clock.set(Math.max(ctx.clock.now().getTime(), Date.parse('2026-03-29T07:00:00.000Z')));
      expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(1);
      const after = await core.tasks.get(SYSTEM, schedule.id);
      expect(after.runAt).toBe('2026-03-30T07:00:00.000Z');
      await core.tasks.stopRecurring(SYSTEM, schedule.id);
      for (const run of (await core.tasks.runs(SYSTEM, schedule.id)).items) await core.tasks.cancel(SYSTEM, run.id);
    });

    it('runs a missed stretch of occurrences once, then continues from now (no burst)', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('missed');
      core.tasks.define({ type, payload: empty, run: () => null });
      const start = ctx.clock.now().getTime();
      const schedule = await core.tasks.submit(SYSTEM, { type, recurrence: { everySeconds: 60 } });
      // The server was down for 10.5 minutes: ten occurrences were missed.
      ctx.clock.advance(10.5 * MINUTE);
      expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(1);
      expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(0);
      const after = await core.tasks.get(SYSTEM, schedule.id);
      expect(after).toMatchObject({ runCount: 1, runAt: new Date(start + 11 * MINUTE).toISOString() });
      const stopped = await core.tasks.stopRecurring(SYSTEM, schedule.id);
      expect(stopped.status).toBe('cancelled');
      expect((await core.tasks.stopRecurring(SYSTEM, schedule.id)).status).toBe('cancelled');
      ctx.clock.advance(MINUTE);
      expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(0);
      for (const run of (await core.tasks.runs(SYSTEM, schedule.id)).items) await core.tasks.cancel(SYSTEM, run.id);
    });

    it('stops at until, completing the schedule', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('until');
      core.tasks.define({ type, payload: empty, run: () => null });
      const until = new Date(ctx.clock.now().getTime() + 2.5 * MINUTE).toISOString();
      const schedule = await core.tasks.submit(SYSTEM, { type, recurrence: { everySeconds: 60, until } });
      let spawned = 0;
      for (let i = 0; i < 5; i++) {
        spawned += await core.tasks.maintenance.spawnDueOccurrences();
        ctx.clock.advance(MINUTE);
      }
      expect(spawned).toBe(3);
      expect(await core.tasks.get(SYSTEM, schedule.id)).toMatchObject({ status: 'completed', runCount: 3 });
      for (const run of (await core.tasks.runs(SYSTEM, schedule.id)).items) await core.tasks.cancel(SYSTEM, run.id);
    });

    it('cancelling a schedule stops it; stopRecurring refuses one-off tasks', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('stop');
      core.tasks.define({ type, payload: empty, run: () => null });
      const schedule = await core.tasks.submit(SYSTEM, { type, recurrence: { everySeconds: 3600 } });
      expect((await core.tasks.cancel(SYSTEM, schedule.id)).status).toBe('cancelled');
      expect(await core.tasks.maintenance.spawnDueOccurrences()).toBe(0);
      const oneOff = await core.tasks.submit(SYSTEM, { type });
      await expectTaskError(core.tasks.stopRecurring(SYSTEM, oneOff.id), 'CONFLICT');
      await core.tasks.cancel(SYSTEM, oneOff.id);
    });
  });
}
