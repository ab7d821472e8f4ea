import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import type { Core } from '../index.js';
import type { ClaimRequest } from '../storage/ports.js';
import type { TaskEngineConfig } from '../tasks/settings.js';
import { Latch, type TaskContractContext, waitForTask, waitUntil } from './task-contract-context.js';

const SYSTEM = SYSTEM_PRINCIPAL;
const empty = z.object({}).optional();

/**
 * Counts the store's claim statements and keeps their requests. `idle()` waits until the worker's claim rounds are over:
 * no claim in flight, and none started once the microtasks that follow the last one ran.
 */
function watchClaims(core: Core) {
  const store = core.storage.tasks;
  const claim = store.claim.bind(store);
  const claims = { started: 0, inFlight: 0, requests: [] as ClaimRequest[] };
  store.claim = async (...args) => {
    claims.started++;
    claims.requests.push(args[0]);
    claims.inFlight++;
    try {
      return await claim(...args);
    } finally {
      claims.inFlight--;
    }
  };
  const idle = () =>
    waitUntil(async () => {
      if (claims.inFlight > 0) return false;
      await new Promise((resolve) => setImmediate(resolve));
      return claims.inFlight === 0;
    }, 'the worker is idle');
  return { claims, idle };
}

/**
 * A core whose worker runs `name` tasks (recording the ids it starts), with one task run to
 * prove the worker is up and its claim rounds settled since: the worker is idle. With `hold`,
 * every task after that first one waits for it before it completes.
 */
async function idleWorker(ctx: TaskContractContext, name: string, workers?: TaskEngineConfig['workers'], hold?: Latch) {
  const core = await ctx.startCore(workers ? { tasks: { workers } } : {});
  const type = ctx.uniqueType(name);
  const started: string[] = [];
  core.tasks.define({
    type,
    payload: empty,
    run: async (task) => {
      started.push(task.taskId);
      if (hold && started.length > 1) await hold.promise;
      return null;
    },
  });
  const { claims, idle } = watchClaims(core);
  const first = await core.tasks.submit(SYSTEM, { type });
  await waitForTask(core, first.id, (task) => task.status === 'completed');
  await idle();
  return { core, type, started, claims, idle };
}

/** A worker with an idle slot takes the task submitted in its process directly (TaskHandoff). */
export function describeTaskHandoff(ctx: TaskContractContext): void {
  describe('handoff to an idle worker', () => {
    it('starts a task submitted here at once, without a claim, and says so in its answer and events', async () => {
      const { core, type, started, claims } = await idleWorker(ctx, 'handoff');

      const before = claims.started;
      const task = await core.tasks.submit(SYSTEM, { type });
      expect(task).toMatchObject({ status: 'running', attempt: 1, startedAt: ctx.clock.now().toISOString() });
      await waitUntil(() => started.includes(task.id), 'the handed-off task started');
      expect(claims.started).toBe(before);
      expect((await core.tasks.waitForFinal(task.id, 10_000)).status).toBe('completed');

      await core.events.flush();
      const { items } = await core.events.read(SYSTEM, { topics: [`task:${task.id}`], after: 0, limit: 10 });
      expect(items.map((e) => [e.type, e.actor, (e.data as { status: string; attempt: number }).status])).toEqual([
        ['task.submitted', 'system', 'pending'],
        ['task.started', 'system', 'running'],
        ['task.completed', 'system', 'completed'],
      ]);
      expect(items.map((e) => (e.data as { attempt: number }).attempt)).toEqual([0, 1, 1]);
    });

    it('jumps no line: with an older task due and waiting, the new one is queued and runs after it', async () => {
      const { core, type, started } = await idleWorker(ctx, 'noskip', { critical: 0, normal: 1, batch: 0 });

      // Due an hour from now: nothing wakes the worker when it becomes due (polling is slow here).
      const older = await core.tasks.submit(SYSTEM, {
        type,
        runAt: new Date(ctx.clock.now().getTime() + 3_600_000).toISOString(),
      });
      ctx.clock.advance(3_600_001);
      const newer = await core.tasks.submit(SYSTEM, { type });
      expect(newer).toMatchObject({ status: 'pending', attempt: 0 });
      for (const id of [older.id, newer.id]) {
        expect((await core.tasks.waitForFinal(id, 10_000)).status).toBe('completed');
      }
      expect(started.slice(1)).toEqual([older.id, newer.id]);
    });

    it('queues a task with a concurrency key as usual (the claim settles keys between nodes)', async () => {
      const { core, type } = await idleWorker(ctx, 'keyed');
      const keyed = await core.tasks.submit(SYSTEM, { type, concurrencyKey: 'org-1' });
      expect(keyed).toMatchObject({ status: 'pending', attempt: 0 });
      expect((await core.tasks.waitForFinal(keyed.id, 10_000)).status).toBe('completed');
    });
  });

  describe('named claims: a task submitted on another node', () => {
    /** A core on the same storage with no worker slots: its submits of `type` reach workers only by notification. */
    const submitterNode = async (type: string) => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      core.tasks.define({ type, payload: empty, run: () => null });
      return core;
    };

    it('an idle worker claims the task its notification names, by id, and runs it', async () => {
      const { core, type, started, claims } = await idleWorker(ctx, 'named');
      const submitter = await submitterNode(type);
      const before = claims.requests.length;

      const task = await submitter.tasks.submit(SYSTEM, { type });
      expect((await core.tasks.waitForFinal(task.id, 10_000)).status).toBe('completed');
      expect(started.slice(1)).toEqual([task.id]);
      // The first claim after the submit named the task (no claim round walked the line for it).
      expect(claims.requests[before]).toMatchObject({ taskId: task.id, limit: 1, slotClass: 'normal' });
    });

    it('a submit of several tasks names none: the worker claims them in a claim round', async () => {
      const { core, type, started, claims } = await idleWorker(ctx, 'namednone');
      const submitter = await submitterNode(type);
      const before = claims.requests.length;

      const tasks = await submitter.tasks.submitMany(SYSTEM, [{ type }, { type }]);
      for (const task of tasks) expect((await core.tasks.waitForFinal(task.id, 10_000)).status).toBe('completed');
      expect(started.slice(1).sort()).toEqual(tasks.map((task) => task.id).sort());
      expect(claims.requests[before]).toMatchObject({ slotClass: 'normal' });
      expect(claims.requests[before]?.taskId).toBeUndefined();
    });

    it('falls back to a claim round when the named task cannot be taken (its key runs), and runs it later', async () => {
      const hold = new Latch();
      const { core, type, started, claims, idle } = await idleWorker(ctx, 'namedkey', undefined, hold);
      const submitter = await submitterNode(type);

      const first = await submitter.tasks.submit(SYSTEM, { type, concurrencyKey: 'org-named' });
      await waitUntil(() => started.includes(first.id), 'the first keyed task started');
      await idle();
      const before = claims.requests.length;
      const second = await submitter.tasks.submit(SYSTEM, { type, concurrencyKey: 'org-named' });
      await waitUntil(
        () => claims.requests.slice(before).some((r) => r.taskId === undefined),
        'a claim round followed',
      );
      await idle();
      expect(claims.requests[before]).toMatchObject({ taskId: second.id });
      expect((await core.tasks.get(SYSTEM, second.id)).status).toBe('pending');

      hold.resolve();
      expect((await core.tasks.waitForFinal(second.id, 10_000)).status).toBe('completed');
      expect(started.slice(1)).toEqual([first.id, second.id]);
    });
  });
}
