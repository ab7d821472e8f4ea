import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import type { TaskAbortError } from '../tasks/task-error.js';
import type { TaskPriority } from '../tasks/types.js';
import { Latch, type TaskContractContext, tokenPrincipal, waitUntil } from './task-contract-context.js';

const SYSTEM = SYSTEM_PRINCIPAL;

/**
 * A type whose handler records its start and then waits for the test to release it (by
 * payload `name`), so a test decides exactly when slots free up.
 */
function gatedType(core: Awaited<ReturnType<TaskContractContext['startCore']>>, type: string) {
  const started: string[] = [];
  const gates = new Map<string, Latch>();
  const gate = (name: string) => {
    let latch = gates.get(name);
    if (!latch) {
      latch = new Latch();
      gates.set(name, latch);
    }
    return latch;
  };
  core.tasks.define({
    type,
    payload: z.object({ name: z.string(), hold: z.boolean().optional() }),
    async run(c) {
      started.push(c.payload.name);
      if (c.payload.hold) await gate(c.payload.name).promise;
      return c.payload.name;
    },
  });
  return {
    started,
    release: (name: string) => gate(name).resolve(),
    submit: (name: string, priority: TaskPriority, hold = false, actor = SYSTEM) =>
      core.tasks.submit(actor, { type, priority, payload: { name, hold } }),
    waitStarted: (name: string) => waitUntil(() => started.includes(name), `${name} started`),
  };
}

/** The four priority behaviours of SPEC §3. */
export function describeTaskPriorities(ctx: TaskContractContext): void {
  describe('priorities', () => {
    it('(1) runs critical work on capacity normal and batch work cannot take, never behind them', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 1, normal: 1, batch: 1 } } });
      const g = gatedType(core, ctx.uniqueType('capacity'));
      await g.submit('n1', 'normal', true);
      await g.submit('b1', 'batch', true);
      await g.waitStarted('n1');
      await g.waitStarted('b1');
      for (let i = 0; i < 10; i++) await g.submit(`backlog${i}`, 'normal');
      // Normal and batch slots are busy and a backlog waits, yet the critical task starts at once.
      const critical = await g.submit('c1', 'critical');
      expect((await core.tasks.waitForFinal(critical.id, 10_000)).status).toBe('completed');
      expect(g.started).toEqual(['n1', 'b1', 'c1']);
      // The critical slot never takes normal work, however long the backlog.
      expect((await core.tasks.list(SYSTEM, { type: critical.type, status: 'pending' })).items).toHaveLength(10);
      g.release('n1');
      g.release('b1');
      await waitUntil(() => g.started.length === 13, 'the backlog ran');
    });

    it('(1) serves a due critical task before older normal work when a slot frees', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 1, batch: 0 } } });
      const g = gatedType(core, ctx.uniqueType('order'));
      await g.submit('n0', 'normal', true);
      await g.waitStarted('n0');
      for (let i = 1; i <= 3; i++) await g.submit(`n${i}`, 'normal');
      await g.submit('c', 'critical');
      g.release('n0');
      await waitUntil(() => g.started.length === 5, 'all ran');
      expect(g.started).toEqual(['n0', 'c', 'n1', 'n2', 'n3']);
    });

    it('(2) shares normal capacity fairly: B’s 10 tasks do not wait for A’s backlog of 1,000', async () => {
      const core = await ctx.startCore({
        freshStorage: true,
        tasks: { workers: { critical: 0, normal: 1, batch: 0 } },
      });
      const type = ctx.uniqueType('fair');
      const started: string[] = [];
      const first = new Latch();
      core.tasks.define({
        type,
        payload: z.object({ who: z.string() }),
        async run(c) {
          started.push(c.payload.who);
          if (started.length === 1) await first.promise;
        },
      });
      const a = tokenPrincipal('tok_a');
      const b = tokenPrincipal('tok_b');
      await core.tasks.submitMany(
        a,
        Array.from({ length: 1000 }, () => ({ type, payload: { who: 'A' } })),
      );
      await waitUntil(() => started.length === 1, 'the first of A runs');
      const bTasks = await core.tasks.submitMany(
        b,
        Array.from({ length: 10 }, () => ({ type, payload: { who: 'B' } })),
      );
      first.resolve();
      await Promise.all(bTasks.map((t) => core.tasks.waitForFinal(t.id, 20_000)));
      // Start-time fair queuing interleaves the lanes: B's tenth task starts within the first ~21.
      const lastB = started.lastIndexOf('B');
      expect(started.filter((w) => w === 'B')).toHaveLength(10);
      expect(lastB).toBeLessThanOrEqual(21);
      expect(started.slice(1, 21).filter((w) => w === 'A').length).toBeGreaterThanOrEqual(9);
    });

    it('(3) preempts a running batch task for critical work without spending its attempt', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 1 } } });
      const type = ctx.uniqueType('preempt');
      const events: string[] = [];
      let preempted = false;
      core.tasks.define({
        type,
        payload: z.object({ name: z.string() }),
        run(c) {
          events.push(`${c.payload.name} start attempt ${c.attempt}`);
          if (c.payload.name !== 'batch' || preempted) return c.payload.name;
          return new Promise((_, reject) =>
            c.signal.addEventListener('abort', () => {
              preempted = true;
              events.push(`batch aborted: ${(c.signal.reason as TaskAbortError).reason}`);
              reject(c.signal.reason);
            }),
          );
        },
      });
      const released: string[] = [];
      core.tasks.on('task.released', ({ id, reason }) => released.push(`${id} ${reason}`));
      const batch = await core.tasks.submit(SYSTEM, { type, priority: 'batch', payload: { name: 'batch' } });
      await waitUntil(() => events.length === 1, 'the batch task runs');
      const critical = await core.tasks.submit(SYSTEM, { type, priority: 'critical', payload: { name: 'critical' } });
      expect((await core.tasks.waitForFinal(critical.id, 10_000)).status).toBe('completed');
      const done = await core.tasks.waitForFinal(batch.id, 10_000);
      expect(done).toMatchObject({ status: 'completed', attempt: 1 });
      expect(events).toEqual([
        'batch start attempt 1',
        'batch aborted: preempted',
        'critical start attempt 1',
        'batch start attempt 1',
      ]);
      expect(released).toEqual([`${batch.id} preempted`]);
    });

    it('(4) never starves batch work: it ages past a steady trickle of normal work', async () => {
      const core = await ctx.startCore({
        tasks: { workers: { critical: 0, normal: 1, batch: 0 }, batchAgingMs: 60_000 },
      });
      const g = gatedType(core, ctx.uniqueType('aging'));
      await g.submit('n0', 'normal', true);
      await g.waitStarted('n0');
      await g.submit('batch', 'batch');
      await g.submit('n1', 'normal', true);
      g.release('n0');
      // Fresh batch work waits behind normal work…
      await g.waitStarted('n1');
      ctx.clock.advance(60_000);
      await g.submit('n2', 'normal');
      g.release('n1');
      // …but once it has waited batchAgingMs it goes before newer normal work.
      await waitUntil(() => g.started.length === 4, 'all ran');
      expect(g.started).toEqual(['n0', 'n1', 'batch', 'n2']);
    });
  });
}
