import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIds } from '../src/ids.js';
import type { ClaimRequest, NewTask, SlotClass, Storage } from '../src/storage/ports.js';
import { createTestStorage, testBackendNames } from '../src/testing/backends.js';
import { newTask } from './fixtures/new-task.js';

/**
 * A named claim (ClaimRequest.taskId: the task a submit notification named) takes that task
 * alone, and only when a claim of the slot class could take it. Each case inserts its own task
 * of its own type into one storage per backend.
 */
describe.each(testBackendNames())('named claims on %s', (backend) => {
  let storage: Storage;
  const ids = createIds();
  const change = { actor: 'system', ids };
  const now = new Date('2026-03-02T10:00:00.000Z');
  let counter = 0;

  beforeAll(async () => {
    storage = await createTestStorage(backend);
  });
  afterAll(async () => {
    await storage?.close();
  });

  /** Inserts one task of a type of its own (changed by `overrides`), answers it and the type. */
  async function inserted(overrides: Partial<NewTask> = {}) {
    const type = `named.t${++counter}`;
    const task = { ...newTask(ids.next('task'), type, now), ...overrides };
    await storage.tasks.insert([task], now, now);
    return { id: task.id, type };
  }

  function named(taskId: string, types: string[], slotClass: SlotClass = 'normal'): ClaimRequest {
    return {
      workerId: 'named-worker',
      slotClass,
      limit: 1,
      types,
      leaseExpiresAt: new Date(now.getTime() + 60_000),
      agedBefore: new Date(now.getTime() - 60_000),
      taskId,
    };
  }

  it('claims the named task, leased to the worker, with its task.started event', async () => {
    const { id, type } = await inserted();
    const other = await inserted({ type });
    const claimed = await storage.tasks.claim(named(id, [type]), now, change);
    expect(claimed.map((task) => [task.id, task.attempt])).toEqual([[id, 1]]);
    expect(await storage.tasks.get(id)).toMatchObject({ status: 'running', leaseOwner: 'named-worker' });
    // Due and of the same type, but not named: left for a claim round.
    expect(await storage.tasks.get(other.id)).toMatchObject({ status: 'pending' });
    await storage.events.sequencePending({ wait: true });
    const events = await storage.events.readAfter(0, 100, { subjects: [id] });
    expect(events.map((event) => event.type)).toEqual(['task.submitted', 'task.started']);
    // Claimed already: a second named claim gets nothing.
    expect(await storage.tasks.claim(named(id, [type]), now, change)).toEqual([]);
  });

  it('takes nothing the class could not take: not due, a type not handled, a priority not in its order, a schedule', async () => {
    const later = await inserted({ runAt: new Date(now.getTime() + 1_000) });
    expect(await storage.tasks.claim(named(later.id, [later.type]), now, change)).toEqual([]);

    const unhandled = await inserted();
    expect(await storage.tasks.claim(named(unhandled.id, ['named.other']), now, change)).toEqual([]);

    const normal = await inserted();
    expect(await storage.tasks.claim(named(normal.id, [normal.type], 'critical'), now, change)).toEqual([]);

    const schedule = await inserted({ isSchedule: true, recurrence: { everySeconds: 3600 } });
    expect(await storage.tasks.claim(named(schedule.id, [schedule.type]), now, change)).toEqual([]);

    for (const { id } of [later, unhandled, normal, schedule]) {
      expect(await storage.tasks.get(id)).toMatchObject({ status: 'pending', attempt: 0 });
    }
    // The batch class's order takes normal work: the same task is claimable there.
    expect(await storage.tasks.claim(named(normal.id, [normal.type], 'batch'), now, change)).toHaveLength(1);
  });

  it('takes nothing while a task with the same concurrency key runs', async () => {
    const first = await inserted({ concurrencyKey: `key-${counter}` });
    const second = await inserted({ type: first.type, concurrencyKey: `key-${counter - 1}` });
    expect(await storage.tasks.claim(named(first.id, [first.type]), now, change)).toHaveLength(1);
    expect(await storage.tasks.claim(named(second.id, [first.type]), now, change)).toEqual([]);
    expect(await storage.tasks.get(second.id)).toMatchObject({ status: 'pending' });
  });

  it('takes nothing for an id that does not exist', async () => {
    expect(await storage.tasks.claim(named('tsk_missing', ['named.any']), now, change)).toEqual([]);
  });
});
